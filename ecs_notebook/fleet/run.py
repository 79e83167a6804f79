"""A fleet run: plan, confirm, submit and track, with a journal that survives restarts.

It works from a script, the CLI or a notebook alike. Its work happens on a private event
loop in a daemon thread, so a notebook cell returns at once while the book keeps moving;
:meth:`FleetRun.wait` blocks for headless runs (papermill, nbclient, scripts).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from .._loop import BackgroundLoop, shared_loop
from ..client import EcsClient, SyncEcsClient
from ..model import ReinstallRequest
from ..model.servers import Server
from ..secrets import Secret
from .book import JobBook
from .journal import Journal, replay, request_from_journal, request_to_journal
from .poller import Poller, PollSchedule
from .records import FINAL_STATUSES, PLANNED, SKIPPED, SUCCESS, JobRecord
from .selection import ConfirmedPlan, Plan, ServerFilter, preflight, select
from .submitter import FleetSubmitter, Progress


def _fingerprint(request: ReinstallRequest) -> str:
    return hashlib.sha256(repr(sorted(request_to_journal(request).items())).encode()).hexdigest()


@dataclass(frozen=True)
class Summary:
    """How a run ended: rows per status, and every server not reinstalled with the reason."""

    counts: dict[str, int]
    not_reinstalled: pd.DataFrame

    @property
    def succeeded(self) -> int:
        """Servers whose reinstall job ended in SUCCESS."""
        return self.counts.get(SUCCESS, 0)

    def __str__(self) -> str:
        shown = ", ".join(f"{k} {v}" for k, v in self.counts.items() if v)
        return f"Summary({shown or 'empty'})"


class FleetRun:
    """Reinstall many servers: one book, one journal, one submitter, one poller."""

    def __init__(
        self,
        client: EcsClient | SyncEcsClient,
        journal: str | os.PathLike[str],
        *,
        concurrency: int = 10,
        poll_concurrency: int = 20,
        schedule: PollSchedule | None = None,
        loop: BackgroundLoop | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        if isinstance(client, SyncEcsClient):
            self.client = client.aio
            self._loop = loop or client._loop
        else:
            self.client = client
            self._loop = loop or shared_loop()
        self.book = JobBook()
        self.journal_path = Path(journal)
        self.journal = Journal(self.journal_path)
        self.plan_info: dict[str, Any] = {}
        self.poller = Poller(
            self.client, self.book, self.journal, concurrency=poll_concurrency, schedule=schedule
        )
        self.submitter = FleetSubmitter(
            self.client,
            self.book,
            self.journal,
            concurrency=concurrency,
            on_progress=on_progress,
            on_accepted=self.poller.track,
        )
        self._future: concurrent.futures.Future[None] | None = None
        self._submitted = threading.Event()

    def __repr__(self) -> str:
        return f"FleetRun(journal={str(self.journal_path)!r}, rows={len(self.book)})"

    # -- planning ---------------------------------------------------------------------------

    def servers(self, **filters: Any) -> list[Server]:
        """List the project's servers (API filters of ``list_servers``)."""
        return self._loop.run(self.client.list_servers(**filters))

    def plan(
        self,
        request: ReinstallRequest,
        *,
        servers: Sequence[Server] | None = None,
        criteria: ServerFilter | None = None,
        server_ids: Sequence[str] | None = None,
        check_keypairs: bool = True,
        stopped_only: bool = False,
    ) -> Plan:
        """Select servers and run the pre-flight check; nothing is sent."""
        request.body()  # invalid input: ValidationError before any call
        fleet = list(servers) if servers is not None else self.servers()
        if criteria is not None:
            fleet = select(fleet, criteria)
        keypairs = None
        if check_keypairs and request.keyname is not None:
            keypairs = [k.name for k in self._loop.run(self.client.list_keypairs())]
        return preflight(
            fleet, request, keypairs=keypairs, requested_ids=server_ids, stopped_only=stopped_only
        )

    # -- running ----------------------------------------------------------------------------

    def start(self, confirmed: ConfirmedPlan, request: ReinstallRequest) -> None:
        """Journal the plan, then submit and track in the background. Returns at once."""
        if not isinstance(confirmed, ConfirmedPlan):
            raise TypeError("start() needs a confirmed plan: plan.confirm(number_of_servers)")
        if self._future is not None:
            raise RuntimeError("this run has already started")
        plan = confirmed.plan
        request.body()
        self.plan_info = {
            "request": request_to_journal(request),
            "fingerprint": _fingerprint(request),
            "expect": plan.count,
            "endpoint": self.client.endpoint,
            "created": datetime.now(timezone.utc).isoformat(),
        }
        self.journal.write("plan", durable=False, **self.plan_info)
        for server in plan.targets:
            self.journal.write(
                "row",
                durable=False,
                key=server.id,
                server_id=server.id,
                server_name=server.name,
                status=PLANNED,
            )
            self.book.add(JobRecord(key=server.id, server_id=server.id, server_name=server.name))
        for skip in plan.skipped:
            key = f"skip:{skip.server_id}:{len(self.book)}"
            self.journal.write(
                "row",
                durable=False,
                key=key,
                server_id=skip.server_id,
                server_name=skip.name,
                status=SKIPPED,
                note=skip.reason,
            )
            self.book.add(
                JobRecord(
                    key=key,
                    server_id=skip.server_id,
                    server_name=skip.name,
                    status=SKIPPED,
                    note=skip.reason,
                )
            )
        self.journal.write("planned", count=plan.count)  # fsync: the plan is on disk
        self.book.notify()
        self._future = self._loop.submit(self._main(request))

    @classmethod
    def resume(
        cls,
        client: EcsClient | SyncEcsClient,
        journal: str | os.PathLike[str],
        *,
        adminpass: Secret | str | None = None,
        submit_remaining: bool = True,
        **options: Any,
    ) -> FleetRun:
        """Re-attach a run from its journal: track every job, resolve unanswered POSTs, and
        (with ``submit_remaining``) submit servers that were planned but never sent."""
        state = replay(journal)
        run = cls(client, journal, **options)
        run.plan_info = state.plan
        for record in state.records.values():
            run.book.add(record)
        run.book.notify()
        request = None
        remaining = any(r.status == PLANNED for r in state.records.values())
        if submit_remaining and remaining and state.plan.get("request"):
            request = request_from_journal(state.plan["request"], adminpass)
            if _fingerprint(request) != state.plan.get("fingerprint"):
                raise ValueError(
                    "the request rebuilt from the journal does not match the one planned"
                )
        run.journal.write(
            "resumed",
            durable=False,
            planned_left=sum(r.status == PLANNED for r in state.records.values()),
        )
        run._future = run._loop.submit(run._main(request))
        return run

    async def _main(self, request: ReinstallRequest | None) -> None:
        self.poller.expect_more(True)
        polling = asyncio.create_task(self.poller.run())
        try:
            if request is not None:
                await self.submitter.run(request)
        finally:
            self._submitted.set()
            self.poller.expect_more(False)
            await polling

    # -- control ----------------------------------------------------------------------------

    def cancel(self) -> None:
        """Send nothing more; keep tracking what was sent."""
        self._loop.loop.call_soon_threadsafe(self.submitter.cancel)

    def stop(self) -> None:
        """Stop submitting and polling (resume later from the journal)."""
        self._loop.loop.call_soon_threadsafe(self.submitter.cancel)
        self._loop.loop.call_soon_threadsafe(self.poller.cancel)

    def pause(self) -> None:
        """Pause polling."""
        self._loop.loop.call_soon_threadsafe(self.poller.pause)

    def unpause(self) -> None:
        """Resume polling after :meth:`pause`."""
        self._loop.loop.call_soon_threadsafe(self.poller.resume)

    @property
    def running(self) -> bool:
        """True while submitting or polling."""
        return self._future is not None and not self._future.done()

    def wait_submitted(self, timeout: float | None = None) -> bool:
        """Block until every planned server has been sent (or cancelled); False on timeout."""
        return self._submitted.wait(timeout)

    def wait(self, timeout: float | None = None) -> Summary:
        """Block until every row is finished (for scripts and headless notebooks)."""
        if self._future is not None:
            self._future.result(timeout)
        self.journal.close()
        return self.summary()

    def close(self) -> None:
        """Stop everything and close the client's connections and the journal."""
        if self.running:
            self.stop()
            if self._future is not None:
                self._future.result()
        self._loop.run(self.client.aclose())
        self.journal.close()

    def summary(self) -> Summary:
        """Counts per status and the servers not reinstalled, with the reason."""
        frame = self.book.snapshot()
        counts = {k: v for k, v in self.book.counts().items() if v}
        failed = frame[frame["status"].isin([s for s in FINAL_STATUSES if s != SUCCESS])]
        reason = failed["note"].fillna(failed["fail_reason"]).fillna(failed["error_code"])
        not_reinstalled = pd.DataFrame(
            {
                "server_id": failed["server_id"],
                "server_name": failed["server_name"],
                "status": failed["status"].astype("string"),
                "error_code": failed["error_code"],
                "reason": reason,
            }
        ).reset_index(drop=True)
        return Summary(counts, not_reinstalled)
