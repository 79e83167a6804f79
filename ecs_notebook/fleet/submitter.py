"""The fleet submitter: one reinstall POST per server, bounded, journalled, pausable.

Every POST is written to the journal (fsync'd) before it is sent, and its outcome after.
A POST is sent again only when it provably was not processed:

- a transient refusal (throttled, or ``Ecs.0603`` server busy) is an answer that says so:
  the row waits with backoff and is sent again;
- an unanswered POST (or one answered 5xx) is left to the poller, which resolves it from
  the server and hands it back through :meth:`FleetSubmitter.resend` only when the server
  shows no sign of the reinstall after the settle window;
- never more than :attr:`SubmitPolicy.max_attempts` POSTs per server.

:meth:`pause` stops taking new rows (they stay ``PLANNED``), :meth:`proceed` continues,
:meth:`cancel` makes every row not yet sent ``NOT_SENT``, :meth:`stop` leaves them
``PLANNED`` for a later resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from ..client import EcsClient
from ..errors import (
    ApiError,
    OutcomeUnknownError,
    ServerBusyError,
    ServiceError,
    ThrottledError,
    TransportError,
)
from ..model import ReinstallRequest, ValidationError
from .book import JobBook
from .journal import Journal
from .records import INIT, NOT_SENT, PLANNED, REFUSED, SUBMITTING, UNKNOWN, JobRecord


@dataclass(frozen=True)
class SubmitPolicy:
    """How hard to try. Seconds throughout."""

    #: POSTs per server at most (the first one included).
    max_attempts: int = 4
    #: Wait before sending again after a transient refusal; doubles up to ``max_retry_delay``.
    retry_delay: float = 5.0
    max_retry_delay: float = 60.0


@dataclass(frozen=True)
class Progress:
    """Where a submission run stands."""

    total: int
    sent: int
    accepted: int
    refused: int
    unknown: int
    not_sent: int

    @property
    def done(self) -> int:
        """Rows that have an outcome."""
        return self.accepted + self.refused + self.unknown + self.not_sent


ProgressListener = Callable[[Progress], None]
CANCELLED_NOTE = "cancelled before sending"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class FleetSubmitter:
    """Sends the reinstall of every ``PLANNED`` row of a book, ``concurrency`` at a time."""

    def __init__(
        self,
        client: EcsClient,
        book: JobBook,
        journal: Journal,
        *,
        concurrency: int = 10,
        policy: SubmitPolicy | None = None,
        on_progress: ProgressListener | None = None,
        on_accepted: Callable[[str], None] | None = None,
        on_idle: Callable[[], None] | None = None,
        before_send: Callable[[str], bool] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.book = book
        self.journal = journal
        self.concurrency = concurrency
        self.policy = policy or SubmitPolicy()
        self.on_progress = on_progress
        self.on_accepted = on_accepted
        self.on_idle = on_idle
        #: Asked just before a row's ``intent`` record: False keeps the row ``PLANNED``
        #: (a staged run that halted meanwhile).
        self.before_send = before_send
        self._rng = rng or random.Random()
        self._cancelled = False
        self._stopped = False
        self._paused = False
        self._counts = {"sent": 0, "accepted": 0, "refused": 0, "unknown": 0, "not_sent": 0}
        self._total = 0
        self._request: ReinstallRequest | None = None
        self._queue: asyncio.Queue[str] | None = None
        self._gate: asyncio.Event | None = None
        self._outstanding = 0  # rows queued, in flight or waiting to be sent again
        self._posting = 0  # POSTs under way
        self._idle: asyncio.Event | None = None
        self._no_posts = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._waits: set[asyncio.Task[None]] = set()

    # -- control (on the run's loop) ---------------------------------------------------------

    def pause(self) -> None:
        """Take no new row until :meth:`proceed`; POSTs under way finish."""
        self._paused = True
        if self._gate is not None:
            self._gate.clear()

    def proceed(self) -> None:
        """Continue after :meth:`pause`."""
        self._paused = False
        if self._gate is not None:
            self._gate.set()

    def cancel(self) -> None:
        """Send nothing more: rows not sent yet become ``NOT_SENT``; sent ones are tracked."""
        self._cancelled = True
        self._end_waits()
        self.proceed()

    def stop(self) -> None:
        """Send nothing more and leave unsent rows ``PLANNED`` (to be sent on resume)."""
        self._stopped = True
        self._end_waits()
        self.proceed()

    def _end_waits(self) -> None:
        for task in self._waits:
            task.cancel()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopped

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancelled

    @property
    def paused(self) -> bool:
        """True while paused."""
        return self._paused

    @property
    def busy(self) -> bool:
        """True while a row is queued, being sent or waiting to be sent again."""
        return self._outstanding > 0 and not self._stopped

    @property
    def posting(self) -> int:
        """POSTs under way now."""
        return self._posting

    def progress(self) -> Progress:
        """The current counts."""
        return Progress(self._total, **self._counts)

    # -- running -----------------------------------------------------------------------------

    def start(self, request: ReinstallRequest | None, *, staged: bool = False) -> None:
        """Queue every planned row (none without a request, or when ``staged``: then the
        wave driver hands rows over with :meth:`submit`) and start the workers."""
        if request is not None:
            request.body()  # raises ValidationError before anything is sent
        self._request = request
        self._queue = asyncio.Queue()
        self._gate = asyncio.Event()
        self._idle = asyncio.Event()
        self._no_posts = asyncio.Event()
        if not self._paused:
            self._gate.set()
        keys = [r.key for r in self.book.iter_live() if r.status == PLANNED]
        if request is None or staged:
            keys = []
        self._total = len(keys)
        for key in keys:
            self._enqueue(key)
        self._check_idle()
        self._workers = [asyncio.create_task(self._worker()) for _ in range(self.concurrency)]

    async def run(self, request: ReinstallRequest) -> Progress:
        """Submit every planned row and wait until none is left to send; the final counts."""
        self.start(request)
        await self.wait_idle()
        await self.close()
        self._emit()
        return self.progress()

    async def wait_idle(self) -> None:
        """Until nothing is queued, under way or waiting to be sent again."""
        assert self._idle is not None
        await self._idle.wait()

    async def wait_posts(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Until no POST is under way (False after ``timeout`` seconds)."""
        if self._posting == 0:
            return True
        self._no_posts.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._no_posts.wait(), timeout)
        return self._posting == 0

    async def close(self) -> None:
        """Stop the workers and any wait before sending again."""
        for task in [*self._workers, *self._waits]:
            task.cancel()
        for task in [*self._workers, *self._waits]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers = []

    def submit(self, keys: list[str]) -> None:
        """Queue these rows now (a staged run's wave)."""
        if self._queue is None:
            return
        self._total += len(keys)
        for key in keys:
            self._enqueue(key)

    def resend(self, key: str) -> None:
        """The poller proved the last POST of ``key`` was not processed: send it again."""
        if self._queue is None or self._request is None:
            return
        self._total += 1
        self._enqueue(key)

    def _enqueue(self, key: str) -> None:
        assert self._queue is not None and self._idle is not None
        self._outstanding += 1
        self._idle.clear()
        self._queue.put_nowait(key)

    def _finished_one(self) -> None:
        self._outstanding -= 1
        self._check_idle()

    def _check_idle(self) -> None:
        assert self._idle is not None
        if self._outstanding <= 0:
            self._outstanding = 0
            self._idle.set()
            if self.on_idle is not None:
                self.on_idle()

    async def _worker(self) -> None:
        assert self._queue is not None and self._gate is not None
        while True:
            key = await self._queue.get()
            try:
                await self._gate.wait()
                await self._take(key)
            finally:
                self._finished_one()
            self._emit()

    async def _take(self, key: str) -> None:
        if self.book.status_of(key) != PLANNED:
            return
        if self._cancelled:
            await self.journal.commit("cancelled", key=key, note=CANCELLED_NOTE)
            self.book.move(key, NOT_SENT, note=CANCELLED_NOTE)
            self._counts["not_sent"] += 1
            return
        if self._stopped or self.journal.replaced or self._request is None:
            return  # stays PLANNED: a resume sends it
        if self.before_send is not None and not self.before_send(key):
            return  # stays PLANNED: held by a staged run
        await self._submit(self.book.get(key), self._request)

    async def _submit(self, record: JobRecord, request: ReinstallRequest) -> None:
        key = record.key
        attempt = record.attempts + 1
        await self.journal.commit("intent", key=key, server_id=record.server_id, attempt=attempt)
        self.book.move(key, SUBMITTING, submitted=_utcnow(), attempts=attempt)
        if self._stopped or self._cancelled or self.journal.replaced:
            note = "stopped before sending"
            await self.journal.commit("withdrawn", key=key, attempt=attempt, note=note)
            self.book.move(key, PLANNED, note=note)
            if self._cancelled:
                await self._take(key)
            return
        self._counts["sent"] += 1
        self._posting += 1
        try:
            job_id = await self.client.reinstall(record.server_id, request)
        except (ThrottledError, ServerBusyError) as exc:
            await self._transient(record, attempt, exc)
        except (OutcomeUnknownError, ServiceError) as exc:
            # A 5xx may come from a gateway after the backend acted: as unknown as a lost answer.
            cause = (
                exc.cause
                if isinstance(exc, OutcomeUnknownError)
                else f"HTTP {exc.status_code} {exc.code}"
            )
            await self._unknown(key, attempt, cause, str(exc))
        except ApiError as exc:
            await self.journal.commit(
                "refused",
                key=key,
                attempt=attempt,
                code=exc.code,
                message=exc.message,
                http_status=exc.status_code,
            )
            self.book.move(
                key,
                REFUSED,
                error_code=exc.code,
                fail_reason=exc.message,
                last_error=str(exc),
            )
            self._counts["refused"] += 1
        except TransportError as exc:
            # Provably not sent (connection refused after the client's retries).
            await self._transient(record, attempt, exc)
        except ValidationError as exc:
            await self.journal.commit(
                "resolved", key=key, attempt=attempt, outcome="not_accepted", note=str(exc)
            )
            self.book.move(key, NOT_SENT, note=str(exc), last_error=str(exc))
            self._counts["not_sent"] += 1
        else:
            await self.journal.commit("accepted", key=key, attempt=attempt, job_id=job_id)
            self.book.move(key, INIT, job_id=job_id, last_error=None, note=None)
            self._counts["accepted"] += 1
            self._track(key)
        finally:
            self._posting -= 1
            if self._posting == 0:
                self._no_posts.set()

    async def _unknown(self, key: str, attempt: int, cause: str, error: str) -> None:
        await self.journal.commit("unknown", key=key, attempt=attempt, cause=cause)
        self.book.move(key, UNKNOWN, last_error=error, unanswered=True)
        self._counts["unknown"] += 1
        self._track(key)

    async def _transient(self, record: JobRecord, attempt: int, exc: Exception) -> None:
        """An answer that says "not now": send again after a pause, within the bound."""
        key = record.key
        if isinstance(exc, ServerBusyError) and record.unanswered:
            # Busy, perhaps with our own earlier POST: only the server can tell.
            await self._unknown(key, attempt, "server busy after an earlier POST", str(exc))
            return
        if attempt >= self.policy.max_attempts:
            note = f"not sent after {attempt} attempts: {exc}"
            await self.journal.commit(
                "resolved", key=key, attempt=attempt, outcome="not_accepted", note=note
            )
            self.book.move(key, NOT_SENT, note=note, last_error=str(exc))
            self._counts["not_sent"] += 1
            return
        delay = min(self.policy.max_retry_delay, self.policy.retry_delay * 2 ** (attempt - 1))
        if isinstance(exc, ApiError) and exc.retry_after:
            delay = max(delay, exc.retry_after)
        delay *= self._rng.uniform(0.8, 1.2)
        note = f"not processed ({type(exc).__name__}); sending again in {delay:.0f} s"
        await self.journal.commit("retry", key=key, attempt=attempt, note=note)
        self.book.move(key, PLANNED, note=note, last_error=str(exc))
        self._outstanding += 1  # the wait below keeps the submitter busy
        task = asyncio.create_task(self._requeue_after(key, delay))
        self._waits.add(task)
        task.add_done_callback(self._waits.discard)

    async def _requeue_after(self, key: str, delay: float) -> None:
        try:
            with contextlib.suppress(asyncio.CancelledError):  # cut short by cancel or stop
                await asyncio.sleep(delay)
            if not self._stopped:
                self._enqueue(key)  # sent again, or marked NOT_SENT when cancelled
        finally:
            self._finished_one()

    def _track(self, key: str) -> None:
        if self.on_accepted is not None:
            self.on_accepted(key)

    def _emit(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress())
