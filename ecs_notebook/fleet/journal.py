"""The journal: an append-only JSON Lines file that makes a fleet run survive anything.

A submission is written (and fsync'd) *before* its POST is sent and again when the job id
comes back, so after a kernel restart or a killed process every job can be re-attached and
every unanswered POST is known as such. Writes are group-committed: concurrent writers
share one fsync, off the event loop. No secret is ever written: the admin password is left
out of the stored request (``password_login`` says one is needed to submit the rest; a
slow verifier in the plan says which one).

The file is created with mode 0600. Before each write the path is checked to still be the
file being written; a journal removed or replaced mid-run is noticed at the next write,
and everything goes on in a recovery journal beside it (:attr:`Journal.replaced_by`).

Replay goes through the one transition rule (:mod:`.transitions`), so repeated or
reordered lines cannot move a row backwards. A torn last line (a killed writer) is
tolerated and reported; damage anywhere else raises :class:`JournalDamagedError`.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

from ..model import ReinstallRequest, UserData
from ..model.jobs import parse_time
from .binding import PasswordRequiredError
from .lifecycle import RunRefusedError
from .records import (
    CHANGED,
    INIT,
    NOT_SENT,
    PLANNED,
    REFUSED,
    RUNNING,
    SKIPPED,
    SUBMITTING,
    SUCCESS,
    UNCONFIRMED,
    UNHEALTHY,
    UNKNOWN,
    JobRecord,
    Observation,
)
from .transitions import allowed

FORMAT_VERSION: Final = 1
#: ``resolved`` outcomes: what the server showed about an unanswered POST.
RESOLVED: Final = {
    "accepted": RUNNING,  # rebuilding: accepted, job id unknown
    "unconfirmed": UNCONFIRMED,  # changed since the POST, no reinstall seen
    "not_processed": PLANNED,  # unchanged and idle after the settle window: send again
    "not_accepted": NOT_SENT,  # not processed, and no attempts left
}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def request_to_journal(request: ReinstallRequest) -> dict[str, Any]:
    """The request as stored: every field but the admin password."""
    return {
        "password_login": request.adminpass is not None,
        "keyname": request.keyname,
        "userid": request.userid,
        "mode": request.mode,
        "user_data": request.user_data.encoded if request.user_data else None,
        "byol": True if request.byol in (True, "true") else None,
        "encrypt_system_disk": request.encrypt_system_disk,
        "cmk_id": request.cmk_id,
    }


def request_from_journal(stored: dict[str, Any], adminpass: Any = None) -> ReinstallRequest:
    """Rebuild a stored request; a password login needs ``adminpass`` given again."""
    if stored.get("password_login") and not adminpass:
        raise PasswordRequiredError(
            "this run logs in with an admin password: give it again to submit the rest"
        )
    ud = stored.get("user_data")
    return ReinstallRequest(
        adminpass=adminpass if stored.get("password_login") else None,
        keyname=stored.get("keyname"),
        userid=stored.get("userid"),
        mode=stored.get("mode"),
        user_data=UserData.from_base64(ud, "journal") if ud else None,
        byol=stored.get("byol"),
        encrypt_system_disk=stored.get("encrypt_system_disk"),
        cmk_id=stored.get("cmk_id"),
    )


class JournalDamagedError(RunRefusedError):
    """The journal is damaged somewhere other than a torn last line; nothing was sent."""

    def __init__(self, path: Path, line: int, why: str) -> None:
        self.path = path
        self.line = line
        super().__init__(
            f"journal {path} is damaged at line {line} ({why}): it cannot be trusted to "
            "resume from; nothing was sent"
        )


@dataclass
class _Pending:
    lines: list[str] = field(default_factory=list)
    waiters: list[asyncio.Future[None]] = field(default_factory=list)


class Journal:
    """Append records to a JSON Lines file; :meth:`commit` returns once they are on disk.

    ``on_replaced`` is called (from the writing thread) with the recovery journal's path
    when the file was found removed or replaced.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        on_replaced: Callable[[Path], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.on_replaced = on_replaced
        #: The recovery journal written to since the original was removed or replaced.
        self.replaced_by: Path | None = None
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._pending = _Pending()
        self._flusher: asyncio.Task[None] | None = None

    @property
    def replaced(self) -> bool:
        """True once the journal file was found removed or replaced mid-run."""
        return self.replaced_by is not None

    @property
    def current_path(self) -> Path:
        """Where records go now (the recovery journal after a replacement)."""
        return self.replaced_by or self.path

    def _open(self) -> int:
        # Opened on the first write, so a run that is never confirmed leaves no file.
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.current_path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            st = os.fstat(fd)
            self._fd, self._identity = fd, (st.st_dev, st.st_ino)
        elif self.replaced_by is None:
            self._check_identity()
        return self._fd

    def _check_identity(self) -> None:
        try:
            st = os.stat(self.path)
            same = (st.st_dev, st.st_ino) == self._identity
        except FileNotFoundError:
            same = False
        if not same:
            self._recover()

    def _recover(self) -> None:
        """Copy what was written into a recovery journal beside the lost one; go on there."""
        assert self._fd is not None
        size = os.fstat(self._fd).st_size
        written = os.pread(self._fd, size, 0)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        recovery = self.path.with_name(f"{self.path.stem}.recovered-{stamp}{self.path.suffix}")
        n = 1
        while recovery.exists():
            n += 1
            recovery = self.path.with_name(
                f"{self.path.stem}.recovered-{stamp}-{n}{self.path.suffix}"
            )
        fd = os.open(recovery, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        _write_all(fd, written)
        os.fsync(fd)
        os.close(self._fd)
        st = os.fstat(fd)
        self._fd, self._identity = fd, (st.st_dev, st.st_ino)
        self.replaced_by = recovery
        if self.on_replaced is not None:
            self.on_replaced(recovery)

    def close(self) -> None:
        """Flush and close the file."""
        with self._lock:
            if self._fd is not None:
                os.fsync(self._fd)
                os.close(self._fd)
                self._fd = None

    @staticmethod
    def _line(kind: str, data: dict[str, Any]) -> str:
        return json.dumps({"v": FORMAT_VERSION, "t": kind, "at": _now(), **data}) + "\n"

    def write(self, kind: str, *, durable: bool = True, **data: Any) -> None:
        """Write one record now, from a thread that is not the run's loop (fsync'd when
        ``durable``). The run's loop uses :meth:`commit`."""
        self.write_lines([self._line(kind, data)], durable=durable)

    def write_lines(self, lines: list[str], *, durable: bool = True) -> None:
        """Write prepared lines in one go (see :meth:`line`)."""
        with self._lock:
            fd = self._open()
            _write_all(fd, "".join(lines).encode("utf-8"))
            if durable:
                os.fsync(fd)

    def line(self, kind: str, **data: Any) -> str:
        """One record, ready for :meth:`write_lines`."""
        return self._line(kind, data)

    async def commit(self, kind: str, **data: Any) -> None:
        """Write one record and wait until it is fsync'd, sharing the fsync with others."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.lines.append(self._line(kind, data))
        self._pending.waiters.append(future)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_loop())
        await future

    async def _flush_loop(self) -> None:
        while self._pending.lines:
            await asyncio.sleep(0)  # let the other ready writers join this batch
            batch, self._pending = self._pending, _Pending()
            try:
                await asyncio.to_thread(self.write_lines, batch.lines)
            except BaseException as exc:
                for waiter in batch.waiters:
                    if not waiter.done():
                        waiter.set_exception(
                            exc if isinstance(exc, Exception) else OSError(str(exc))
                        )
                raise
            for waiter in batch.waiters:
                if not waiter.done():
                    waiter.set_result(None)

    # -- convenience writers used by the engine ---------------------------------------------

    async def record_job(self, record: JobRecord) -> None:
        """Remember a job's latest state (group-committed, off the loop)."""
        await self.commit(
            "job",
            key=record.key,
            attempt=record.attempts,
            job_id=record.job_id,
            status=record.status,
            begin_time=_iso(record.begin_time),
            end_time=_iso(record.end_time),
            error_code=record.error_code,
            fail_reason=record.fail_reason,
            messages=list(record.messages),
            note=record.note,
        )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@dataclass
class Replay:
    """What a journal says: the run's plan, every row's last known state, run events."""

    plan: dict[str, Any] = field(default_factory=dict)
    records: dict[str, JobRecord] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    planned: bool = False  # the plan was written in full ("planned" line seen)

    @property
    def interrupted(self) -> list[JobRecord]:
        """Rows whose POST may have been sent but whose answer was never recorded."""
        return [r for r in self.records.values() if r.status == UNKNOWN]


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        numbered = [(n, line) for n, line in enumerate(handle, 1) if line.strip()]
    last = numbered[-1][0] if numbered else 0
    for number, line in numbered:
        try:
            item = json.loads(line)
        except ValueError:
            if number == last and not line.endswith("\n"):
                # A torn last line from a killed process: everything before it stands.
                yield number, {"t": "torn"}
                continue
            raise JournalDamagedError(path, number, "not a JSON record") from None
        if not isinstance(item, dict) or not isinstance(item.get("t"), str):
            raise JournalDamagedError(path, number, "not a journal record")
        yield number, item


def read_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every record of a journal, in order (a torn last line left out): what
    :meth:`~.rollout_state.RolloutState.replay` reads. Damage raises like :func:`replay`."""
    path = Path(path)
    return [item for _, item in _lines(path) if item["t"] != "torn"]


def _attempt_matches(record: JobRecord, item: dict[str, Any]) -> bool:
    attempt = item.get("attempt")
    return attempt is None or attempt == record.attempts


def _move(record: JobRecord, status: str) -> bool:
    if not allowed(record.status, status):
        return False
    record.status = status
    return True


def _plan_fields(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("v", "t", "at")}


def replay(path: str | os.PathLike[str]) -> Replay:
    """Rebuild the state of a run from its journal. Unanswered POSTs come back as ``UNKNOWN``.

    Raises :class:`JournalDamagedError` (naming the line) for damage other than a torn
    last line, which is reported in :attr:`Replay.problems`.
    """
    path = Path(path)
    result = Replay()
    records = result.records
    for number, item in _lines(path):
        kind = item["t"]
        key = item.get("key")
        record = records.get(key) if isinstance(key, str) else None
        if kind == "torn":
            result.problems.append(f"line {number} is incomplete (the writer was stopped)")
        elif kind == "plan":
            if result.plan and _plan_fields(item) != result.plan:
                raise JournalDamagedError(path, number, "a second, different plan")
            result.plan = _plan_fields(item)
        elif kind == "planned":
            result.planned = True
        elif kind == "event":
            result.events.append(_plan_fields(item))
        elif kind == "row" and isinstance(key, str):
            if key not in records:
                records[key] = JobRecord(
                    key=key,
                    server_id=str(item.get("server_id")),
                    server_name=str(item.get("server_name") or ""),
                    status=SKIPPED if item.get("status") == SKIPPED else PLANNED,
                    note=item.get("note"),
                    observed=Observation.from_json(item.get("observed")),
                )
        elif record is not None:
            _apply(record, kind, item)
    for record in records.values():
        if record.status == SUBMITTING:
            record.status, record.unanswered = UNKNOWN, True
            record.last_error = "the process stopped while the POST was under way"
    return result


def _apply(record: JobRecord, kind: str, item: dict[str, Any]) -> None:
    """One submission or job line, through the transition rule (stale lines are ignored)."""
    if kind == "intent":
        attempt = item.get("attempt")
        attempt = int(attempt) if isinstance(attempt, int) else record.attempts + 1
        if attempt == record.attempts + 1 and _move(record, SUBMITTING):
            record.attempts = attempt
            record.submitted = parse_time(item.get("at"))
        return
    if not _attempt_matches(record, item):
        return
    if kind == "accepted":
        if _move(record, INIT):
            record.job_id = item.get("job_id")
    elif kind == "refused":
        if _move(record, REFUSED):
            record.error_code = item.get("code")
            record.fail_reason = item.get("message")
    elif kind == "unknown":
        if _move(record, UNKNOWN):
            record.last_error = item.get("cause")
            record.unanswered = True
    elif kind in ("retry", "withdrawn"):
        if _move(record, PLANNED):
            record.note = item.get("note")
    elif kind == "resolved":
        if record.status == SUBMITTING:
            # The writer died mid-POST; a later run resolved it from UNKNOWN.
            record.status, record.unanswered = UNKNOWN, True
        status = RESOLVED.get(str(item.get("outcome")), UNCONFIRMED)
        if _move(record, status):
            record.note = item.get("note")
            if status == PLANNED:
                record.observed = Observation.from_json(item.get("observed")) or record.observed
    elif kind == "cancelled":
        if _move(record, NOT_SENT):
            record.note = item.get("note") or "cancelled before sending"
    elif kind == "changed":
        if _move(record, CHANGED):
            record.note = item.get("note")
    elif kind == "health":
        # A staged run's health check after the job's SUCCESS (VERIFYING -> verdict).
        if _move(record, SUCCESS if item.get("healthy") else UNHEALTHY) and item.get("seen"):
            record.note = str(item.get("seen"))
    elif kind == "job":
        status = str(item.get("status") or record.status)
        if record.status in (PLANNED, SUBMITTING) or not _move(record, status):
            return
        record.job_id = item.get("job_id") or record.job_id
        record.begin_time = parse_time(item.get("begin_time"))
        record.end_time = parse_time(item.get("end_time"))
        record.error_code = item.get("error_code")
        record.fail_reason = item.get("fail_reason")
        record.messages = tuple(item.get("messages") or ())
        record.note = item.get("note") or record.note
