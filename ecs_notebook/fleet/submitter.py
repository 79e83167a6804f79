"""The fleet submitter: one reinstall POST per server, bounded, journalled and cancellable.

Every POST is written to the journal (fsync'd) before it is sent, and its outcome after.
A POST is never sent twice: an unanswered one (or one answered 5xx) is left to the poller
to resolve from the server. Throttling is handled by the client's shared rate limiter and
retry rules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from ..client import EcsClient
from ..errors import ApiError, OutcomeUnknownError, ServiceError, TransportError
from ..model import ReinstallRequest, ValidationError
from .book import JobBook
from .journal import Journal
from .records import INIT, NOT_SENT, PLANNED, REFUSED, SUBMITTING, UNKNOWN, JobRecord


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
        on_progress: ProgressListener | None = None,
        on_accepted: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.book = book
        self.journal = journal
        self.concurrency = concurrency
        self.on_progress = on_progress
        self.on_accepted = on_accepted
        self._cancelled = False
        self._counts = {"sent": 0, "accepted": 0, "refused": 0, "unknown": 0, "not_sent": 0}
        self._total = 0

    def cancel(self) -> None:
        """Send nothing more; what was sent is still tracked."""
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancelled

    def progress(self) -> Progress:
        """The current counts."""
        return Progress(self._total, **self._counts)

    async def run(self, request: ReinstallRequest) -> Progress:
        """Submit every planned row; returns the final counts."""
        request.body()  # raises ValidationError before anything is sent
        keys = [r.key for r in self.book.iter_live() if r.status == PLANNED]
        self._total = len(keys)
        queue: asyncio.Queue[str] = asyncio.Queue()
        for key in keys:
            queue.put_nowait(key)
        workers = [
            asyncio.create_task(self._worker(queue, request)) for _ in range(self.concurrency)
        ]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
        self._emit()
        return self.progress()

    async def _worker(self, queue: asyncio.Queue[str], request: ReinstallRequest) -> None:
        while not queue.empty():
            key = queue.get_nowait()
            if self._cancelled:
                await self._mark_cancelled(key)
                continue
            await self._submit(self.book.get(key), request)
            self._emit()

    async def _mark_cancelled(self, key: str) -> None:
        await self.journal.commit("cancelled", key=key)
        self.book.update(key, status=NOT_SENT, note="cancelled before sending")
        self._counts["not_sent"] += 1

    async def _submit(self, record: JobRecord, request: ReinstallRequest) -> None:
        attempt = record.attempts + 1
        await self.journal.commit(
            "intent", key=record.key, server_id=record.server_id, attempt=attempt
        )
        self.book.update(record.key, status=SUBMITTING, submitted=_utcnow(), attempts=attempt)
        self._counts["sent"] += 1
        try:
            job_id = await self.client.reinstall(record.server_id, request)
        except (OutcomeUnknownError, ServiceError) as exc:
            # A 5xx may come from a gateway after the backend acted: as unknown as a lost answer.
            cause = (
                exc.cause
                if isinstance(exc, OutcomeUnknownError)
                else f"HTTP {exc.status_code} {exc.code}"
            )
            await self.journal.commit("unknown", key=record.key, cause=cause)
            self.book.update(record.key, status=UNKNOWN, last_error=str(exc))
            self._counts["unknown"] += 1
            self._accepted_or_unknown(record.key)
        except ApiError as exc:
            await self.journal.commit(
                "refused",
                key=record.key,
                code=exc.code,
                message=exc.message,
                http_status=exc.status_code,
            )
            self.book.update(
                record.key,
                status=REFUSED,
                error_code=exc.code,
                fail_reason=exc.message,
                last_error=str(exc),
            )
            self._counts["refused"] += 1
        except (TransportError, ValidationError) as exc:
            # Provably not sent (connection refused after retries, or invalid input).
            await self.journal.commit(
                "resolved", key=record.key, outcome="not_accepted", note=str(exc)
            )
            self.book.update(record.key, status=NOT_SENT, note=str(exc), last_error=str(exc))
            self._counts["not_sent"] += 1
        else:
            await self.journal.commit("accepted", key=record.key, job_id=job_id)
            self.book.update(record.key, status=INIT, job_id=job_id, last_error=None)
            self._counts["accepted"] += 1
            self._accepted_or_unknown(record.key)

    def _accepted_or_unknown(self, key: str) -> None:
        if self.on_accepted is not None:
            self.on_accepted(key)

    def _emit(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress())
