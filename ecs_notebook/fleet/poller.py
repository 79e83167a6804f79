"""The poller: keeps every unfinished job of a book current, at the API's pace.

It polls only what is not finished, on an adaptive schedule: quick at first, backing off
with jitter to a cap, and quick again inside the window in which jobs of this run have been
seen to end. Until that window is known, only a few "scout" jobs are polled quickly; the
moment the first jobs end, every job that has reached the window is pulled forward. Rows
whose POST went unanswered are resolved by looking at the server, judged only by what the
API reports (the server's ``updated``, status and task state against the observation made
before the POST; never the local clock against the API's). It stops by itself when
nothing is left to watch, and can be paused, resumed and cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..client import EcsClient
from ..errors import ApiError, EcsNotebookError, NotFoundError
from ..model.jobs import Job
from ..model.servers import Server
from .book import JobBook
from .health import RUNNING as ACTIVE_STATUS
from .health import STOPPED as STOPPED_STATUS
from .health import expected_status
from .journal import Journal
from .records import (
    FAIL,
    NOT_SENT,
    PLANNED,
    RUNNING,
    SUCCESS,
    UNCONFIRMED,
    UNKNOWN,
    VERIFYING,
    JobRecord,
    Observation,
)
from .transitions import allowed


@dataclass(frozen=True)
class PollSchedule:
    """How often to poll. Seconds throughout."""

    first: float = 5.0
    factor: float = 2.0
    max_interval: float = 30.0
    #: The cap while no job of this run has finished yet (nothing is known of durations).
    learning_cap: float = 8.0
    near_interval: float = 4.5
    jitter: float = 0.2
    near_jitter: float = 0.1
    #: An unanswered POST is checked on the server this often; after this settle window
    #: with no sign of the reinstall (unchanged and idle), it counts as not processed.
    unknown_interval: float = 2.0
    unknown_grace: float = 30.0
    min_samples: int = 1
    #: Besides the first few jobs, one job in this many scouts for the run's durations.
    scout_every: int = 20


@dataclass
class _Watch:
    t0: float  # when the job started, on the poller's clock
    first_look: float  # when this poller began watching
    scout: bool = True  # polled quickly while nothing is known of durations
    interval: float = 0.0


@dataclass
class DurationModel:
    """What this run has learnt about how long its jobs take."""

    samples: list[float] = field(default_factory=list)
    min_samples: int = 3

    def add(self, seconds: float) -> None:
        """Record one finished job's duration."""
        if seconds >= 0:
            self.samples.append(seconds)

    def window(self) -> tuple[float, float] | None:
        """The 5th to 95th percentile of durations, once enough jobs have finished."""
        if len(self.samples) < self.min_samples:
            return None
        if len(self.samples) < 20:
            return min(self.samples), max(self.samples)
        cuts = statistics.quantiles(self.samples, n=20)
        return cuts[0], cuts[-1]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Poller:
    """Polls a :class:`JobBook`'s unfinished rows with one client, ``concurrency`` at a time."""

    def __init__(
        self,
        client: EcsClient,
        book: JobBook,
        journal: Journal | None = None,
        *,
        concurrency: int = 20,
        schedule: PollSchedule | None = None,
        notify_every: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        max_attempts: int = 1,
        on_not_processed: Callable[[str], None] | None = None,
        keep_alive: Callable[[], bool] | None = None,
        on_verify: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.book = book
        self.journal = journal
        self.schedule = schedule or PollSchedule()
        self.durations = DurationModel(min_samples=self.schedule.min_samples)
        self.concurrency = concurrency
        self.notify_every = notify_every
        self._clock = clock
        self._rng = rng or random.Random()
        self._watch: dict[str, _Watch] = {}
        self._heap: list[tuple[float, str]] = []
        self._incoming: set[str] = set()
        self._admit_all = True
        self._window: tuple[float, float] | None = None
        self._wake: asyncio.Event | None = None
        self._resumed: asyncio.Event | None = None
        self._cancelled = False
        self._expecting_more = False
        #: POSTs per server at most: a POST proved not processed is handed back through
        #: ``on_not_processed`` while fewer were sent.
        self.max_attempts = max_attempts
        self.on_not_processed = on_not_processed
        #: While this says true, the poller waits for new rows instead of stopping when idle.
        self.keep_alive = keep_alive or (lambda: False)
        #: When set, a job's SUCCESS moves the row to ``VERIFYING`` and hands its key here
        #: (the health check decides between ``SUCCESS`` and ``UNHEALTHY``).
        self.on_verify = on_verify
        #: The request's ``mode`` (set by ``FleetRun``): with the status a server had before,
        #: it says how a successful reinstall leaves the server (``health.expected_status``),
        #: which is all there is to judge a row whose job id was never learned.
        self.mode: str | None = None
        self._at_rest_odd: set[str] = set()
        self.requests = 0
        self.errors = 0
        self.finished_at: dict[str, float] = {}

    # -- control (call from the poller's loop, or through FleetRun) --------------------------

    def expect_more(self, value: bool) -> None:
        """While true, the poller waits for new rows instead of stopping when idle."""
        self._expecting_more = value
        self.wake()

    def wake(self) -> None:
        """Re-examine the schedule (new rows, control changes)."""
        if self._wake is not None:
            self._wake.set()

    def track(self, key: str) -> None:
        """A row now has a job (or an unknown outcome) to watch."""
        self._incoming.add(key)
        self.wake()

    def pause(self) -> None:
        """Stop sending polls until :meth:`resume`."""
        if self._resumed is not None:
            self._resumed.clear()

    def resume(self) -> None:
        """Poll again after :meth:`pause`."""
        if self._resumed is not None:
            self._resumed.set()

    @property
    def paused(self) -> bool:
        """True while paused."""
        return self._resumed is not None and not self._resumed.is_set()

    def cancel(self) -> None:
        """Stop for good (the book keeps what it knows; a journal lets you resume later)."""
        self._cancelled = True
        self.resume()
        self.wake()

    # -- the loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Poll until every row is finished (or cancelled)."""
        self._wake = asyncio.Event()
        self._resumed = asyncio.Event()
        self._resumed.set()
        semaphore = asyncio.Semaphore(self.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        notifier = asyncio.create_task(self._notify_loop())
        try:
            while not self._cancelled:
                self._admit()
                if not self._heap:
                    if not self._expecting_more and not self.keep_alive() and not tasks:
                        break
                    await self._sleep(1.0)
                    continue
                due, key = self._heap[0]
                now = self._clock()
                if due > now:
                    await self._sleep(due - now)
                    continue
                await self._resumed.wait()
                if self._cancelled:
                    break
                heapq.heappop(self._heap)
                await semaphore.acquire()
                task = asyncio.create_task(self._poll(key))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                task.add_done_callback(lambda _: semaphore.release())
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            notifier.cancel()
            self.book.notify()

    async def _sleep(self, seconds: float) -> None:
        assert self._wake is not None
        self._wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, seconds))

    async def _notify_loop(self) -> None:
        while True:
            await asyncio.sleep(self.notify_every)
            self.book.notify()

    def _admit(self) -> None:
        if self._admit_all:
            self._admit_all = False
            keys = [r.key for r in self.book.iter_live()]
        else:
            keys, self._incoming = list(self._incoming), set()
        for key in keys:
            if key in self._watch or key not in self.book:
                continue
            record = self.book.get(key)
            if not record.tracked:
                continue
            now = self._clock()
            t0 = now
            if record.submitted is not None:
                t0 = now - max(0.0, (_utcnow() - record.submitted).total_seconds())
            count = len(self._watch)
            scout = count < self.schedule.min_samples or count % self.schedule.scout_every == 0
            watch = _Watch(t0, now, scout=scout)
            self._watch[key] = watch
            if record.job_id is None:
                due = t0 + self.schedule.unknown_interval
            elif scout or self._window is not None:
                due = t0 + self.schedule.first
            else:
                due = t0 + self.schedule.max_interval
            heapq.heappush(self._heap, (max(now, due), key))

    def _replan(self) -> None:
        """The run's durations just became known: pull forward every job inside the window."""
        assert self._window is not None
        lo = self._window[0]
        now = self._clock()
        s = self.schedule
        changed = []
        for due, key in self._heap:
            watch = self._watch.get(key)
            if watch is not None:
                target = max(now, watch.t0 + lo)
                jitter = self._rng.uniform(0, s.near_interval * s.near_jitter)
                due = min(due, target + jitter)
            changed.append((due, key))
        heapq.heapify(changed)
        self._heap = changed
        self.wake()

    def _reschedule(self, key: str, *, backoff: bool = False) -> None:
        watch = self._watch[key]
        now = self._clock()
        s = self.schedule
        jitter = s.jitter
        if self.book.status_of(key) == UNKNOWN:
            interval = s.unknown_interval
        else:
            window = self._window
            interval = watch.interval * s.factor if watch.interval else s.first
            if window is None:
                if watch.scout:
                    # Scouts stay close, so the first jobs to end are seen soon after.
                    grown = watch.interval * 1.25 if watch.interval else s.near_interval
                    interval = min(max(grown, s.near_interval), s.learning_cap)
                else:
                    interval = min(interval, s.max_interval)
            else:
                interval = min(interval, s.max_interval)
            if backoff:
                interval = min(s.max_interval, max(interval, s.first) * s.factor)
            elif window is not None:
                lo, hi = window
                age = now - watch.t0
                if age + interval < lo:
                    pass
                elif age < lo:
                    interval = max(lo - age, s.near_interval / 2)
                elif age <= max(hi, 1.5 * lo) + s.near_interval:
                    # Inside the window (widened while few jobs have finished).
                    interval, jitter = s.near_interval, s.near_jitter
            watch.interval = interval
        delay = interval * self._rng.uniform(1 - jitter, 1 + jitter)
        heapq.heappush(self._heap, (now + delay, key))
        self.wake()

    # -- one poll ---------------------------------------------------------------------------

    async def _poll(self, key: str) -> None:
        record = self.book.get(key)
        self.requests += 1
        try:
            if record.job_id is not None:
                job = await self.client.get_job(record.job_id)
                await self._apply_job(record, job)
            else:
                server = await self.client.get_server(record.server_id)
                await self._apply_server(record, server)
        except NotFoundError as exc:
            self.errors += 1
            self.book.update(
                key, last_error=str(exc), last_polled=_utcnow(), polls=record.polls + 1
            )
            self._reschedule(key, backoff=True)
            return
        except (ApiError, EcsNotebookError) as exc:
            self.errors += 1
            self.book.update(
                key, last_error=str(exc), last_polled=_utcnow(), polls=record.polls + 1
            )
            self._reschedule(key, backoff=True)
            return
        current = self.book.get(key)
        if current.finished:
            self.finished_at[key] = self._clock()
            self._watch.pop(key, None)
        elif not current.tracked:
            self._watch.pop(key, None)  # handed back to the submitter
        else:
            self._reschedule(key)

    async def _apply_job(self, record: JobRecord, job: Job) -> None:
        # One rule for moves: a job status that would go backwards is not applied.
        status = job.status if allowed(record.status, job.status) else record.status
        if status == SUCCESS and self.on_verify is not None:
            status = VERIFYING
        status_changed = status != record.status
        updated = self.book.move(
            record.key,
            status,
            begin_time=job.begin_time,
            end_time=job.end_time,
            error_code=job.error_code,
            fail_reason=job.fail_reason,
            messages=job.messages,
            polls=record.polls + 1,
            last_polled=_utcnow(),
            last_error=None,
        )
        if job.finished:
            self._learn(record.key, job)
        if status_changed and self.journal is not None:
            await self.journal.record_job(updated)
        if status_changed and status == VERIFYING:
            self._verify(record.key)

    def _verify(self, key: str) -> None:
        assert self.on_verify is not None
        self.on_verify(key)

    def _learn(self, key: str, job: Job) -> None:
        if job.begin_time is not None and job.end_time is not None:
            self.durations.add((job.end_time - job.begin_time).total_seconds())
        elif key in self._watch:
            self.durations.add(self._clock() - self._watch[key].t0)
        first_window = self._window is None
        self._window = self.durations.window()
        if first_window and self._window is not None:
            self._replan()

    async def _resolve(
        self,
        record: JobRecord,
        status: str,
        outcome: str,
        note: str,
        polls: int,
        observed: Observation | None = None,
    ) -> None:
        if self.journal is not None:
            extra = {"observed": observed.to_json()} if observed is not None else {}
            await self.journal.commit(
                "resolved",
                key=record.key,
                attempt=record.attempts,
                outcome=outcome,
                note=note,
                **extra,
            )
        changes: dict[str, object] = {}
        if observed is not None:
            changes["observed"] = observed
        self.book.move(record.key, status, note=note, polls=polls, last_polled=_utcnow(), **changes)

    async def _apply_server(self, record: JobRecord, server: Server) -> None:
        now = _utcnow()
        polls = record.polls + 1
        if record.status == UNKNOWN:
            await self._resolve_unknown(record, server, polls)
            return
        # Accepted, but no job id: follow the server until it is at rest again.
        verdict = None if server.rebuilding or server.task_state else self._at_rest(record, server)
        if verdict is None:
            self.book.update(record.key, polls=polls, last_polled=now)
            return
        final, note = verdict
        if final == SUCCESS and self.on_verify is not None:
            final = VERIFYING
        updated = self.book.move(
            record.key, final, end_time=now, note=note, polls=polls, last_polled=now
        )
        if self.journal is not None:
            await self.journal.record_job(updated)
        if final == VERIFYING:
            self._verify(record.key)

    def _at_rest(self, record: JobRecord, server: Server) -> tuple[str, str] | None:
        """A reinstall whose job id is unknown, judged once its server is at rest again:
        ``(status, note)``, or ``None`` to look again.

        With no job to ask, the server is the only witness: a failed reinstall leaves it
        ``ERROR``, or stopped when a successful one would have started it again (believed
        when seen twice in a row).
        """
        status = server.status
        if status == "ERROR":
            return FAIL, "server is ERROR after rebuilding (job id unknown)"
        before = record.observed.status if record.observed is not None else None
        if before in (ACTIVE_STATUS, STOPPED_STATUS) or self.mode is not None:
            expected = expected_status(before, self.mode)
            if status != expected:
                if record.key not in self._at_rest_odd:
                    self._at_rest_odd.add(record.key)
                    return None
                return FAIL, (
                    f"server came back {status}, not {expected} as a successful reinstall "
                    "leaves it: the reinstall most likely failed (job id unknown; the "
                    "server's events say why)"
                )
        return SUCCESS, f"server is {status} after rebuilding (job id unknown)"

    async def _resolve_unknown(self, record: JobRecord, server: Server, polls: int) -> None:
        """An unanswered POST, judged from the server against what was seen before it."""
        now = _utcnow()
        seen = Observation.of(server)
        if server.rebuilding:
            note = "the answer was lost, but the server is rebuilding: accepted (job id unknown)"
            if self.journal is not None:
                await self.journal.commit(
                    "resolved",
                    key=record.key,
                    attempt=record.attempts,
                    outcome="accepted",
                    note=note,
                )
            updated = self.book.move(
                record.key,
                RUNNING,
                note=note,
                polls=polls,
                last_polled=now,
                last_error=None,
            )
            if self.journal is not None:
                await self.journal.record_job(updated)
            return
        if seen.task_state:
            # Busy (a reinstall stops a running server first): not yet decidable.
            self.book.update(record.key, polls=polls, last_polled=now)
            return
        before = record.observed
        changes = before.changes(seen) if before is not None else ["nothing seen before the POST"]
        if changes:
            await self._resolve(
                record,
                UNCONFIRMED,
                "unconfirmed",
                "the answer was lost; the server changed since ("
                + "; ".join(changes)
                + ") but shows no reinstall now: check it before submitting again",
                polls,
            )
            return
        watched = self._clock() - self._watch[record.key].first_look
        if watched < self.schedule.unknown_grace:
            self.book.update(record.key, polls=polls, last_polled=now)  # too soon to tell
            return
        if record.attempts < self.max_attempts and self.on_not_processed is not None:
            await self._resolve(
                record,
                PLANNED,
                "not_processed",
                f"POST {record.attempts} was not processed (the server is unchanged and idle): "
                "sending it again",
                polls,
                observed=seen,
            )
            self.on_not_processed(record.key)
            return
        await self._resolve(
            record,
            NOT_SENT,
            "not_accepted",
            f"not accepted: after {record.attempts} POST(s) the server shows no sign of the "
            "reinstall (unchanged and idle)",
            polls,
        )
