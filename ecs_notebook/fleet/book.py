"""The job book: every reinstall of a run, as a pandas DataFrame with proper dtypes.

The live records are plain objects owned by one thread (the poller's loop); readers get
snapshots. Listeners are told which rows changed, so a view redraws only those.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

import pandas as pd

from .records import FINAL_STATUSES, STATUSES, JobRecord
from .transitions import check

COLUMNS: Final = (
    "key",
    "server_id",
    "server_name",
    "job_id",
    "status",
    "submitted",
    "begin_time",
    "end_time",
    "duration",
    "error_code",
    "fail_reason",
    "messages",
    "attempts",
    "polls",
    "last_polled",
    "last_error",
    "note",
)
_TIME_COLUMNS: Final = ("submitted", "begin_time", "end_time", "last_polled")
_TEXT_COLUMNS: Final = (
    "server_id",
    "server_name",
    "job_id",
    "error_code",
    "fail_reason",
    "messages",
    "last_error",
    "note",
)


@dataclass(frozen=True)
class BookChange:
    """Rows changed since the previous notice; ``version`` grows by one per notice."""

    keys: frozenset[str]
    version: int


Listener = Callable[[BookChange], None]


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(timezone.utc) if value is not None else None


class JobBook:
    """Every reinstall of a run, keyed by submission key; thread-safe snapshots."""

    def __init__(self) -> None:
        self._records: dict[str, JobRecord] = {}
        self._lock = threading.RLock()
        self._dirty: set[str] = set()
        self._listeners: list[Listener] = []
        self._version = 0
        self._snapshot: pd.DataFrame | None = None
        #: Called (under the book's lock, on the owner's thread) with a row that has just
        #: moved to a final status: how a staged run learns each outcome as it happens.
        self.on_final: Callable[[JobRecord], None] | None = None

    @property
    def lock(self) -> threading.RLock:
        """The book's lock: hold it to read state kept in step with the rows."""
        return self._lock

    # -- writing (the owner's thread) ------------------------------------------------------

    def add(self, record: JobRecord) -> None:
        """Add a new row; keys are unique."""
        with self._lock:
            if record.key in self._records:
                raise KeyError(f"row {record.key} is already in the book")
            self._records[record.key] = record
            self._touch(record.key)

    def move(self, key: str, status: str, **changes: Any) -> JobRecord:
        """Move one row to ``status`` (with other field changes), as the one transition rule
        of :mod:`.transitions` allows (``TransitionError`` if not). The engine changes a
        row's status only through here."""
        with self._lock:
            before = self._records[key].status
            check(before, status, key)
            record = self.update(key, status=status, **changes)
            if before != status and record.finished and self.on_final is not None:
                self.on_final(record)
            return record

    def update(self, key: str, **changes: Any) -> JobRecord:
        """Change fields of one row and mark it changed (only when a value really changed).

        Sets any field as given (views and tests build books with it); the engine moves a
        row's status with :meth:`move`.
        """
        with self._lock:
            record = self._records[key]
            changed = False
            for name, value in changes.items():
                if getattr(record, name) != value:
                    setattr(record, name, value)
                    changed = True
            if changed:
                self._touch(key)
            return record

    def _touch(self, key: str) -> None:
        self._dirty.add(key)
        self._snapshot = None

    def notify(self, *, always: bool = False) -> BookChange | None:
        """Tell listeners which rows changed since the last notice (none: no call, unless
        ``always``: state kept beside the rows changed, such as a staged run's step)."""
        with self._lock:
            if not self._dirty and not always:
                return None
            self._version += 1
            change = BookChange(frozenset(self._dirty), self._version)
            self._dirty = set()
            listeners = list(self._listeners)
        for listener in listeners:
            listener(change)
        return change

    # -- reading (any thread) --------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every :class:`BookChange`; returns an unsubscribe function."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key: object) -> bool:
        return key in self._records

    def get(self, key: str) -> JobRecord:
        """A copy of one row's record."""
        with self._lock:
            return _copy(self._records[key])

    def status_of(self, key: str) -> str | None:
        """One row's status (``None`` if there is no such row), without copying the record."""
        with self._lock:
            record = self._records.get(key)
            return record.status if record is not None else None

    def records(self) -> list[JobRecord]:
        """Copies of every record, in the order they were added."""
        with self._lock:
            return [_copy(r) for r in self._records.values()]

    def by_server(self, server_id: str) -> list[JobRecord]:
        """Copies of the rows for one server (a server may be reinstalled more than once)."""
        with self._lock:
            return [_copy(r) for r in self._records.values() if r.server_id == server_id]

    def iter_live(self) -> Iterator[JobRecord]:
        """The live records themselves, for the owner only (the poller and submitter)."""
        return iter(list(self._records.values()))

    @property
    def all_finished(self) -> bool:
        """True when every row is in a final state."""
        with self._lock:
            return all(r.status in FINAL_STATUSES for r in self._records.values())

    def counts(self) -> dict[str, int]:
        """Rows per status, every known status listed (zeros included)."""
        with self._lock:
            counts = dict.fromkeys(STATUSES, 0)
            for r in self._records.values():
                counts[r.status] = counts.get(r.status, 0) + 1
            return counts

    def snapshot(self) -> pd.DataFrame:
        """A copy of the whole book as a DataFrame: categorical status, UTC datetimes."""
        with self._lock:
            if self._snapshot is None:
                self._snapshot = to_frame(self._records.values())
            return self._snapshot.copy()

    def rows(self, keys: Iterable[str]) -> pd.DataFrame:
        """A DataFrame of just the given rows (what a view needs after a change)."""
        with self._lock:
            return to_frame(self._records[k] for k in keys if k in self._records)

    def to_csv(self, path: str | Path) -> None:
        """Export the book (times in ISO-8601 UTC)."""
        self.snapshot().to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")


def _copy(record: JobRecord) -> JobRecord:
    return JobRecord(**{**record.__dict__, "extra": dict(record.extra)})


def to_frame(records: Iterable[JobRecord]) -> pd.DataFrame:
    """Build the book's DataFrame from records, with the book's dtypes."""
    rows = []
    for r in records:
        end = _utc(r.end_time)
        begin = _utc(r.begin_time)
        rows.append(
            (
                r.key,
                r.server_id,
                r.server_name,
                r.job_id,
                r.status,
                _utc(r.submitted),
                begin,
                end,
                (end - begin) if (end is not None and begin is not None) else None,
                r.error_code,
                r.fail_reason,
                "; ".join(r.messages) if r.messages else None,
                r.attempts,
                r.polls,
                _utc(r.last_polled),
                r.last_error,
                r.note,
            )
        )
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    return _apply_dtypes(frame)


def _apply_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    extra = sorted(set(frame["status"].dropna()) - set(STATUSES))
    frame["status"] = pd.Categorical(frame["status"], categories=[*STATUSES, *extra])
    for column in _TIME_COLUMNS:
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    frame["duration"] = pd.to_timedelta(frame["duration"]).astype("timedelta64[us]")
    for column in ("attempts", "polls"):
        frame[column] = frame[column].astype("int64")
    for column in ("key", *_TEXT_COLUMNS):
        frame[column] = frame[column].astype("string")
    return frame.set_index("key", drop=False)


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV written by :meth:`JobBook.to_csv` back, with the book's dtypes."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    for column in ("attempts", "polls"):
        frame[column] = pd.to_numeric(frame[column]).fillna(0)
    frame["duration"] = pd.to_timedelta(frame["duration"])
    frame = frame.drop(columns="key").assign(key=frame["key"])[list(COLUMNS)]
    return _apply_dtypes(frame)
