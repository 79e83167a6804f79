"""How far a run has got: counts per status, elapsed time, an ETA, and counts over time.

Read-only views of a :class:`JobBook`, shared by the CLI's progress bar and the console:

* :func:`measure` computes a :class:`RunProgress` from the book's rows and a clock;
* :class:`CountsHistory` keeps a bounded series of ``(seconds, counts)`` samples for a
  picture, plus marks (``"wave 2"``) that a picture draws as vertical rules.

The ETA rule (defined once, here): the typical job duration is the median of
``end_time - begin_time`` over the jobs finished so far. A job in flight needs
``max(0, typical - its age)``; servers not yet sent need the time to send them at the pace
seen so far, plus ``typical``. The ETA is the largest of these; ``None`` until one job has
finished (nothing has been seen yet to estimate from).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Final

from .book import JobBook
from .records import FAIL, FINAL_STATUSES, PLANNED, SUBMITTING, SUCCESS, JobRecord

#: Statuses of rows not sent yet (they wait for the submitter).
WAITING_TO_SEND: Final = frozenset({PLANNED, SUBMITTING})

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, in UTC (the default clock of :func:`measure`)."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class RunProgress:
    """A run at one instant. Times in seconds; ``eta`` is ``None`` while unknown."""

    counts: dict[str, int]
    total: int
    finished: int
    elapsed: float
    eta: float | None
    typical_duration: float | None

    @property
    def done(self) -> bool:
        """True when every row of a non-empty run is final."""
        return self.total > 0 and self.finished == self.total

    @property
    def eta_text(self) -> str:
        """``" · ETA 2:30"`` while the ETA is known and the run not done, else ``""``."""
        return "" if self.eta is None or self.done else f" · ETA {clock_text(self.eta)}"

    def describe(self) -> str:
        """``"12 of 50 finished · elapsed 1:05 · ETA 2:30"`` (ETA after the first job ends)."""
        head = f"{self.finished:,} of {self.total:,} finished · elapsed {clock_text(self.elapsed)}"
        if self.done:
            return head
        if self.eta is None:
            return f"{head} · ETA after the first job ends"
        return f"{head} · ETA {clock_text(self.eta)}"


def clock_text(seconds: float) -> str:
    """``75`` -> ``"1:15"``, ``3725`` -> ``"1:02:05"``."""
    s = max(0, round(seconds))
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def measure(records: Iterable[JobRecord], now: datetime) -> RunProgress:
    """The progress of ``records`` at ``now`` (see the module's ETA rule)."""
    rows = list(records)
    now = _aware(now)
    counts: dict[str, int] = {}
    durations: list[float] = []
    sent_times: list[datetime] = []
    in_flight_ages: list[float] = []
    waiting = 0
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
        if r.submitted is not None:
            sent_times.append(_aware(r.submitted))
        if r.status in (SUCCESS, FAIL) and r.begin_time is not None and r.end_time is not None:
            durations.append(max(0.0, (_aware(r.end_time) - _aware(r.begin_time)).total_seconds()))
        elif r.status in WAITING_TO_SEND:
            waiting += 1
        elif r.status not in FINAL_STATUSES:
            started = r.begin_time or r.submitted
            in_flight_ages.append(
                0.0 if started is None else (now - _aware(started)).total_seconds()
            )
    finished = sum(n for s, n in counts.items() if s in FINAL_STATUSES)
    first = min(sent_times) if sent_times else None
    elapsed = max(0.0, (now - first).total_seconds()) if first is not None else 0.0
    typical = statistics.median(durations) if durations else None
    eta: float | None = None
    if typical is not None and finished < len(rows):
        candidates = [max(0.0, typical - age) for age in in_flight_ages]
        if waiting:
            sent = len(sent_times)
            pace = sent / elapsed if sent and elapsed > 0 else None  # servers sent per second
            candidates.append((waiting / pace if pace else 0.0) + typical)
        eta = max(candidates, default=0.0)
    elif typical is not None:
        eta = 0.0
    return RunProgress(counts, len(rows), finished, elapsed, eta, typical)


def book_progress(book: JobBook, clock: Clock = utc_now) -> RunProgress:
    """:func:`measure` over every row of ``book`` at ``clock()``."""
    return measure(book.records(), clock())


@dataclass
class CountsHistory:
    """Samples of ``(seconds, counts per status)``, at most ``4 * max_points`` kept.

    When the history grows too long every other sample is dropped (the last is kept), so
    memory and the picture's size stay bounded however long the run. ``marks`` are
    ``(seconds, label)`` events (waves) for a picture to draw.
    """

    max_points: int = 60
    samples: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    marks: list[tuple[float, str]] = field(default_factory=list)

    def add(self, seconds: float, counts: Mapping[str, int]) -> None:
        """Record the counts at ``seconds``."""
        self.samples.append((seconds, {k: v for k, v in counts.items() if v}))
        if len(self.samples) > 4 * self.max_points:
            last = self.samples[-1]
            self.samples = self.samples[::2]
            if self.samples[-1] is not last:
                self.samples.append(last)

    def mark(self, seconds: float, label: str) -> None:
        """Record an event (a wave starting, say) at ``seconds``."""
        self.marks.append((seconds, label))

    def clear(self) -> None:
        """Forget every sample and mark."""
        self.samples.clear()
        self.marks.clear()

    def points(self) -> list[tuple[float, dict[str, int]]]:
        """At most ``max_points`` samples, evenly spread, first and last included."""
        n = len(self.samples)
        if n <= self.max_points:
            return list(self.samples)
        step = (n - 1) / (self.max_points - 1)
        return [self.samples[round(i * step)] for i in range(self.max_points)]
