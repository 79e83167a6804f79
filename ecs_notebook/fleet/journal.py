"""The journal: an append-only JSON Lines file that makes a fleet run survive anything.

A submission is written (and fsync'd) *before* its POST is sent and again when the job id
comes back, so after a kernel restart or a killed process every job can be re-attached and
every unanswered POST is known as such. Writes are group-committed: concurrent submitters
share one fsync, off the event loop. No secret is ever written: the admin password is left
out of the stored request (``password_login`` says one is needed to submit the rest).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Final

from ..model import ReinstallRequest, UserData
from ..model.jobs import parse_time
from .records import (
    NOT_SENT,
    PLANNED,
    REFUSED,
    SKIPPED,
    SUBMITTING,
    UNCONFIRMED,
    UNKNOWN,
    JobRecord,
)

FORMAT_VERSION: Final = 1
_RESOLVED: Final = {"accepted": "RUNNING", "not_accepted": NOT_SENT, "unconfirmed": UNCONFIRMED}


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
        raise ValueError(
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


@dataclass
class _Pending:
    lines: list[str] = field(default_factory=list)
    waiters: list[asyncio.Future[None]] = field(default_factory=list)


class Journal:
    """Append records to a JSON Lines file; :meth:`commit` returns once they are on disk."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._handle: IO[str] | None = None
        self._lock = threading.Lock()
        self._pending = _Pending()
        self._flusher: asyncio.Task[None] | None = None

    @property
    def _file(self) -> IO[str]:
        # Opened on the first write, so a run that is never confirmed leaves no file.
        if self._handle is None or self._handle.closed:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        return self._handle

    def close(self) -> None:
        """Flush and close the file."""
        with self._lock:
            if self._handle is not None and not self._handle.closed:
                self._handle.flush()
                os.fsync(self._handle.fileno())
                self._handle.close()

    @staticmethod
    def _line(kind: str, data: dict[str, Any]) -> str:
        return json.dumps({"v": FORMAT_VERSION, "t": kind, "at": _now(), **data}) + "\n"

    def write(self, kind: str, *, durable: bool = True, **data: Any) -> None:
        """Write one record now, from any thread (fsync'd when ``durable``)."""
        line = self._line(kind, data)
        with self._lock:
            self._file.write(line)
            self._file.flush()
            if durable:
                os.fsync(self._file.fileno())

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
            await asyncio.sleep(0)  # let the other ready submitters join this batch
            batch, self._pending = self._pending, _Pending()
            try:
                await asyncio.to_thread(self._write_batch, batch.lines)
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

    def _write_batch(self, lines: list[str]) -> None:
        with self._lock:
            self._file.write("".join(lines))
            self._file.flush()
            os.fsync(self._file.fileno())

    # -- convenience writers used by the engine ---------------------------------------------

    def record_job(self, record: JobRecord) -> None:
        """Remember a job's latest state (not fsync'd: it can always be polled again)."""
        self.write(
            "job",
            durable=False,
            key=record.key,
            job_id=record.job_id,
            status=record.status,
            begin_time=_iso(record.begin_time),
            end_time=_iso(record.end_time),
            error_code=record.error_code,
            fail_reason=record.fail_reason,
            messages=list(record.messages),
            note=record.note,
        )


@dataclass
class Replay:
    """What a journal says: the run's plan and every row's last known state."""

    plan: dict[str, Any] = field(default_factory=dict)
    records: dict[str, JobRecord] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def interrupted(self) -> list[JobRecord]:
        """Rows whose POST may have been sent but whose answer was never recorded."""
        return [r for r in self.records.values() if r.status == UNKNOWN]


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                # A torn last line from a killed process: everything before it stands.
                yield number, {"t": "torn"}
                continue
            if isinstance(item, dict):
                yield number, item


def replay(path: str | os.PathLike[str]) -> Replay:
    """Rebuild the state of a run from its journal. Unanswered POSTs come back as ``UNKNOWN``."""
    result = Replay()
    records = result.records
    for number, item in _lines(Path(path)):
        kind = item.get("t")
        key = item.get("key")
        record = records.get(key) if isinstance(key, str) else None
        if kind == "plan":
            result.plan = {k: v for k, v in item.items() if k not in ("v", "t")}
        elif kind == "row" and isinstance(key, str):
            records[key] = JobRecord(
                key=key,
                server_id=str(item.get("server_id")),
                server_name=str(item.get("server_name") or ""),
                status=SKIPPED if item.get("status") == SKIPPED else PLANNED,
                note=item.get("note"),
            )
        elif record is None:
            if kind == "torn":
                result.problems.append(f"line {number} is incomplete (the writer was stopped)")
            continue
        elif kind == "intent":
            record.status = SUBMITTING
            record.attempts = int(item.get("attempt") or record.attempts + 1)
            record.submitted = parse_time(item.get("at"))
        elif kind == "accepted":
            record.status = "INIT"
            record.job_id = item.get("job_id")
        elif kind == "refused":
            record.status = REFUSED
            record.error_code = item.get("code")
            record.fail_reason = item.get("message")
        elif kind == "unknown":
            record.status = UNKNOWN
            record.last_error = item.get("cause")
        elif kind == "resolved":
            record.status = _RESOLVED.get(str(item.get("outcome")), NOT_SENT)
            record.note = item.get("note")
        elif kind == "cancelled":
            record.status = NOT_SENT
            record.note = "cancelled before sending"
        elif kind == "job":
            record.job_id = item.get("job_id") or record.job_id
            record.status = str(item.get("status") or record.status)
            record.begin_time = parse_time(item.get("begin_time"))
            record.end_time = parse_time(item.get("end_time"))
            record.error_code = item.get("error_code")
            record.fail_reason = item.get("fail_reason")
            record.messages = tuple(item.get("messages") or ())
            record.note = item.get("note") or record.note
    for record in records.values():
        if record.status == SUBMITTING:
            record.status = UNKNOWN
            record.last_error = "the process stopped while the POST was under way"
    return result
