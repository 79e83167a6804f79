"""One owner per journal: an exclusive OS lock held for as long as a run lives.

The lock is ``fcntl.flock`` on a sidecar file (``<journal>.lock``) that also records who
holds it (pid, host, start time) for the message a second owner gets. The kernel drops the
lock when its process dies, so a lock left by a dead process is simply taken over; the
record it left is overwritten.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .lifecycle import RunRefusedError


class JournalInUseError(RunRefusedError):
    """Another live process (or another run in this one) holds the journal; nothing was sent."""

    def __init__(self, journal: Path, holder: dict[str, Any]) -> None:
        self.journal = journal
        self.holder = holder
        pid = holder.get("pid", "?")
        host = holder.get("host", "?")
        since = holder.get("started", "?")
        super().__init__(
            f"journal {journal} is in use by process {pid} on host {host} (since {since}); "
            "wait for that run to end (or stop it) before resuming it; nothing was sent"
        )


def lock_path(journal: Path) -> Path:
    """The sidecar lock file of a journal."""
    return journal.with_name(journal.name + ".lock")


class JournalLock:
    """Exclusive ownership of one journal (re-entrant within one object)."""

    def __init__(self, journal: str | os.PathLike[str]) -> None:
        self.journal = Path(journal)
        self.path = lock_path(self.journal)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock now or raise :class:`JournalInUseError` naming the holder."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise JournalInUseError(self.journal, holder) from None
            # The previous holder may have removed the file between our open and our lock:
            # then we locked an orphan; start again on the file now at the path.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (removing the sidecar file while still holding it)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(fd)

    def __enter__(self) -> JournalLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"JournalLock({str(self.journal)!r}, held={self.held})"


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
