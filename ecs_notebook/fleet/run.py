"""A fleet run: plan, confirm, submit and track, with a journal that survives restarts.

It works from a script, the CLI or a notebook alike. Its work happens on a private event
loop in a daemon thread, so a notebook cell returns at once while the book keeps moving;
:meth:`FleetRun.wait` blocks for headless runs (papermill, nbclient, scripts).

Lifecycle: a run owns its journal (an OS lock) from :meth:`FleetRun.start` or
:meth:`FleetRun.resume` until it ends. :meth:`~FleetRun.pause` stops sending (rows stay
``PLANNED``) and :meth:`~FleetRun.proceed` continues; :meth:`~FleetRun.cancel` is the
only thing that makes unsent rows ``NOT_SENT``; :meth:`~FleetRun.suspend` (Ctrl-C) stops
sending, waits briefly for POSTs in flight and lets the run end with the rest ``PLANNED``
for a later resume. Resume is bound to the run's target and password and sends only to
servers unchanged since the plan observed them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

import pandas as pd

from .._loop import BackgroundLoop, shared_loop
from ..client import EcsClient, SyncEcsClient
from ..model import ReinstallRequest
from ..model.servers import Server
from ..secrets import Secret
from .binding import check_password, check_target, password_verifier
from .book import JobBook
from .health import DEFAULT_INTERVAL, DEFAULT_TIMEOUT
from .journal import (
    Journal,
    JournalDamagedError,
    Replay,
    read_records,
    replay,
    request_from_journal,
    request_to_journal,
)
from .lifecycle import RunStartedError, check_new_journal
from .lock import JournalLock
from .poller import Poller, PollSchedule
from .records import (
    CHANGED,
    NOT_REINSTALLED,
    PLANNED,
    SKIPPED,
    SUCCESS,
    JobRecord,
    Observation,
)
from .rollout import Rollout, plan_order
from .rollout_state import Halt, RolloutState, RolloutStateError, RolloutView
from .selection import ConfirmedPlan, Plan, ServerFilter, preflight, select
from .submitter import FleetSubmitter, Progress, SubmitPolicy
from .waves import WaveDriver, feed_rows

LOOKUP_CHUNK: Final = 100  # server ids per listing call, as the API advises
#: How long Ctrl-C (:meth:`FleetRun.suspend`) waits for POSTs already under way.
SUSPEND_GRACE: Final = 10.0


def _fingerprint(request: ReinstallRequest) -> str:
    return hashlib.sha256(repr(sorted(request_to_journal(request).items())).encode()).hexdigest()


@dataclass(frozen=True)
class Summary:
    """How a run ended: rows per status, and every server not reinstalled with the reason."""

    counts: dict[str, int]
    not_reinstalled: pd.DataFrame
    #: Run-level notices (a journal replaced mid-run, a plan cut short, ...).
    notices: tuple[str, ...] = field(default=())

    @property
    def succeeded(self) -> int:
        """Servers whose reinstall job ended in SUCCESS."""
        return self.counts.get(SUCCESS, 0)

    @property
    def pending(self) -> int:
        """Rows with no final outcome yet (not sent, or sent and not finished)."""
        return sum(
            n for status, n in self.counts.items() if status not in NOT_REINSTALLED | {SUCCESS}
        )

    @property
    def all_reinstalled(self) -> bool:
        """True when every planned server was reinstalled (pre-flight skips aside)."""
        return self.pending == 0 and all(
            n == 0 for status, n in self.counts.items() if status in NOT_REINSTALLED - {SKIPPED}
        )

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
        policy: SubmitPolicy | None = None,
        loop: BackgroundLoop | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
        health_timeout: float = DEFAULT_TIMEOUT,
        health_interval: float = DEFAULT_INTERVAL,
    ) -> None:
        if isinstance(client, SyncEcsClient):
            self.client = client.aio
            self._loop = loop or client._loop
        else:
            self.client = client
            self._loop = loop or shared_loop()
        self.book = JobBook()
        self.journal_path = Path(journal)
        self.journal = Journal(self.journal_path, on_replaced=self._journal_replaced)
        self.lock = JournalLock(self.journal_path)
        self.policy = policy or SubmitPolicy()
        self.plan_info: dict[str, Any] = {}
        #: Run-level notices, in order (also passed to ``on_notice`` as they happen).
        self.notices: list[str] = []
        self.on_notice = on_notice
        self.submitter = FleetSubmitter(
            self.client,
            self.book,
            self.journal,
            concurrency=concurrency,
            policy=self.policy,
            on_progress=on_progress,
            on_idle=self._submitter_idle,
        )
        self.poller = Poller(
            self.client,
            self.book,
            self.journal,
            concurrency=poll_concurrency,
            schedule=schedule,
            max_attempts=self.policy.max_attempts,
            on_not_processed=self.submitter.resend,
            keep_alive=lambda: (
                self.submitter.busy or (self._driver is not None and self._driver.busy)
            ),
        )
        self.submitter.on_accepted = self.poller.track
        self._future: concurrent.futures.Future[None] | None = None
        self._submitted = threading.Event()
        self._health = (health_timeout, health_interval)
        #: The staged-rollout driver (every run started here has one; a resumed run from
        #: before staged rollouts has none).
        self._driver: WaveDriver | None = None
        self._request: ReinstallRequest | None = None

    def __repr__(self) -> str:
        return f"FleetRun(journal={str(self.journal_path)!r}, rows={len(self.book)})"

    # -- planning ---------------------------------------------------------------------------

    def servers(self, **filters: Any) -> list[Server]:
        """List the project's servers (API filters of ``list_servers``)."""
        return self._loop.run(self.client.list_servers(**filters))

    def servers_by_id(self, ids: Sequence[str]) -> list[Server]:
        """The servers with these ids, as the API lists them now (unknown ids left out)."""
        return self._loop.run(self._servers_by_id(ids))

    async def _servers_by_id(self, ids: Sequence[str]) -> list[Server]:
        found: list[Server] = []
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), LOOKUP_CHUNK):
            chunk = ",".join(unique[start : start + LOOKUP_CHUNK])
            found += await self.client.list_servers(server_id=chunk)
        return [s for s in found if s.status]  # unknown ids come back with only id and fault

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

    def acquire(self) -> None:
        """Own the journal now (``JournalInUseError`` naming the holder if another run does).

        :meth:`start` and :meth:`resume` do this; call it earlier to refuse before planning.
        """
        self.lock.acquire()

    def start(
        self,
        confirmed: ConfirmedPlan,
        request: ReinstallRequest,
        rollout: Rollout | None = None,
    ) -> None:
        """Journal the plan, then submit and track in the background. Returns at once.

        ``rollout`` stages the run (waves, error budget, bake, health check, approvals);
        ``None`` is ``Rollout()``: one wave, no budget, health check on.
        """
        if not isinstance(confirmed, ConfirmedPlan):
            raise TypeError("start() needs a confirmed plan: plan.confirm(number_of_servers)")
        if self._future is not None:
            raise RunStartedError("this run has already started; nothing more was sent")
        rollout = Rollout() if rollout is None else rollout
        if not isinstance(rollout, Rollout):
            raise TypeError("rollout must be a Rollout(...) value")
        plan = confirmed.plan
        request.body()
        self.acquire()
        try:
            check_new_journal(self.journal_path)
            state = RolloutState.for_plan(rollout, plan.targets)
            self._write_plan(plan, request, state)
        except BaseException:
            self.lock.release()
            raise
        self._use_rollout(state, request.mode)
        self._request = request
        self.book.notify()
        self._future = self._loop.submit(self._main(request, recheck=False))

    def _use_rollout(self, state: RolloutState, mode: str | None) -> None:
        driver = WaveDriver(
            state,
            client=self.client,
            book=self.book,
            journal=self.journal,
            submitter=self.submitter,
            mode=mode,
            health_timeout=self._health[0],
            health_interval=self._health[1],
            on_change=self._driver_changed,
        )
        self._driver = driver
        self.poller.mode = mode
        self.book.on_final = driver.row_final
        self.submitter.before_send = driver.allow_send
        if state.rollout.verify:
            self.poller.on_verify = driver.verify

    def _driver_changed(self) -> None:
        self.poller.wake()
        self._check_submitted()
        if self._driver is not None and self._driver.awaiting:
            self.book.notify(always=True)  # views show the approval at once

    def _check_submitted(self) -> None:
        if self.submitter.busy:
            return
        if self._driver is None or self._driver.all_sent:
            self._submitted.set()

    def _write_plan(self, plan: Plan, request: ReinstallRequest, state: RolloutState) -> None:
        self.plan_info = {
            "request": request_to_journal(request),
            "fingerprint": _fingerprint(request),
            "expect": plan.count,
            "endpoint": self.client.endpoint,
            "region": self.client.region,
            "project_id": self._loop.run(self.client.project_id()),
            "created": datetime.now(timezone.utc).isoformat(),
        }
        if request.adminpass is not None:
            self.plan_info["password_verifier"] = password_verifier(request.adminpass)
        line = self.journal.line
        header = state.header()
        lines = [
            line("plan", **self.plan_info),
            line("rollout", **{k: v for k, v in header.items() if k != "t"}),
        ]
        for server in plan_order(plan.targets):
            observed = Observation.of(server)
            lines.append(
                line(
                    "row",
                    key=server.id,
                    server_id=server.id,
                    server_name=server.name,
                    status=PLANNED,
                    observed=observed.to_json(),
                )
            )
            self.book.add(
                JobRecord(
                    key=server.id, server_id=server.id, server_name=server.name, observed=observed
                )
            )
        for skip in plan.skipped:
            key = f"skip:{skip.server_id}:{len(self.book)}"
            lines.append(
                line(
                    "row",
                    key=key,
                    server_id=skip.server_id,
                    server_name=skip.name,
                    status=SKIPPED,
                    note=skip.reason,
                )
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
        lines.append(line("planned", count=plan.count))
        self.journal.write_lines(lines)  # one fsync: the plan is on disk before any POST

    @classmethod
    def resume(
        cls,
        client: EcsClient | SyncEcsClient,
        journal: str | os.PathLike[str],
        *,
        adminpass: Secret | str | None = None,
        submit_remaining: bool = True,
        proceed: bool = False,
        **options: Any,
    ) -> FleetRun:
        """Re-attach a run from its journal: track every job, resolve unanswered POSTs, and
        (with ``submit_remaining``) send the servers planned but not sent yet, each only if
        the server is unchanged since the plan observed it.

        A staged run goes on in the wave it was in; after a halt it only tracks, unless
        ``proceed`` (``resume --proceed``): then the plan goes on with a fresh error budget
        for what is left, with the same request and wave sizes.

        Refuses before sending anything (a :class:`~.lifecycle.RunRefusedError`): journal
        in use, damaged, another target, another or a missing admin password.
        """
        run = cls(client, journal, **options)
        run.acquire()
        try:
            request = run._reattach(adminpass, submit_remaining, proceed)
        except BaseException:
            run.lock.release()
            raise
        run._future = run._loop.submit(run._main(request, recheck=True))
        return run

    def _reattach(
        self, adminpass: Secret | str | None, submit_remaining: bool, proceed: bool = False
    ) -> ReinstallRequest | None:
        state = replay(self.journal_path)
        if not state.plan:
            raise JournalDamagedError(self.journal_path, 1, "no plan record")
        check_target(
            state.plan,
            endpoint=self.client.endpoint,
            region=None if self.client.region == "custom" else self.client.region,
            project_id=self._loop.run(self.client.project_id()),
        )
        self.plan_info = state.plan
        for notice in _replay_notices(state):
            self._notice(notice)
        for record in state.records.values():
            self.book.add(record)
        self.book.notify()
        check_password(state.plan, adminpass)
        self._reattach_rollout(proceed)
        request = None
        remaining = sum(r.status == PLANNED for r in state.records.values())
        if submit_remaining and remaining and state.plan.get("request"):
            request = request_from_journal(state.plan["request"], adminpass)
            if _fingerprint(request) != state.plan.get("fingerprint"):
                raise JournalDamagedError(
                    self.journal_path, 1, "the stored request does not match its fingerprint"
                )
        self.journal.write("event", what="resumed", planned_left=remaining)
        self._request = request
        return request

    def _reattach_rollout(self, proceed: bool) -> None:
        try:
            rollout = RolloutState.replay(read_records(self.journal_path))
            if rollout is not None:
                feed_rows(rollout, self.book)
        except RolloutStateError as exc:
            raise JournalDamagedError(self.journal_path, 1, str(exc)) from None
        if rollout is None:
            if proceed:
                self._notice("this run was not staged: there is no halt to proceed from")
            return
        if proceed:
            if rollout.step in ("halted", "approval"):
                for item in rollout.proceed():
                    self.journal.write(item["t"], **{k: v for k, v in item.items() if k != "t"})
            else:
                self._notice(f"nothing to proceed from: the run is {rollout.step}")
        mode = self.plan_info.get("request", {}).get("mode")
        self._use_rollout(rollout, mode if isinstance(mode, str) else None)

    async def _main(self, request: ReinstallRequest | None, *, recheck: bool) -> None:
        try:
            if recheck and request is not None:
                await self._recheck()
            driver = self._driver
            self.submitter.start(request, staged=driver is not None)
            if driver is not None:
                driver.launch(request is not None)
            await self.poller.run()
        finally:
            if self._driver is not None:
                await self._driver.close()
            self._submitted.set()
            await self.submitter.close()
            # The run is over: the journal is closed and another run may own it.
            await asyncio.to_thread(self.journal.close)
            self.lock.release()

    async def _recheck(self) -> None:
        """Before sending anything on resume: re-read every server still to be sent, and
        keep only those unchanged since the plan observed them."""
        planned = [r for r in self.book.iter_live() if r.status == PLANNED]
        if not planned:
            return
        now = {s.id: s for s in await self._servers_by_id([r.server_id for r in planned])}
        for record in planned:
            server = now.get(record.server_id)
            if server is None:
                changes = ["the server is no longer listed"]
            elif record.observed is None:
                changes = ["the journal holds no observation of it from the plan"]
            else:
                changes = record.observed.changes(Observation.of(server))
            if changes:
                note = "not sent: changed since the plan (" + "; ".join(changes) + ")"
                await self.journal.commit(
                    "changed", key=record.key, attempt=record.attempts, note=note
                )
                self.book.move(record.key, CHANGED, note=note)
        self.book.notify()

    def _submitter_idle(self) -> None:
        self._check_submitted()
        self.poller.wake()

    def _journal_replaced(self, recovery: Path) -> None:
        # Called from the journal's writing thread.
        self._loop.loop.call_soon_threadsafe(self.submitter.stop)
        self._notice(
            f"journal {self.journal_path} was removed or replaced during the run: nothing "
            f"more is sent; what was sent is still tracked; the run goes on in {recovery} "
            f"(resume from it: ecs-notebook resume --journal {recovery})"
        )

    def _notice(self, text: str) -> None:
        self.notices.append(text)
        if self.on_notice is not None:
            self.on_notice(text)

    # -- control ----------------------------------------------------------------------------

    def _call(self, fn: Callable[[], None]) -> None:
        self._loop.loop.call_soon_threadsafe(fn)

    def pause(self) -> None:
        """Send nothing new until :meth:`proceed` (rows stay ``PLANNED``); keep tracking."""
        self._call(self.submitter.pause)

    def proceed(self) -> None:
        """Continue: after :meth:`pause`; at a wave boundary that waits for approval; or
        after a halt, with a fresh error budget for what is left (``HELD`` rows are sent,
        in their waves, with the same request). Returns at once."""
        driver = self._driver
        if driver is not None and self._future is not None and self._future.done():
            if driver.state.halted or driver.state.step == "approval":
                self._restart()
            return
        self._call(self.submitter.proceed)
        if driver is not None:
            self._loop.submit(driver.proceed())

    def _restart(self) -> None:
        """Proceed after the run ended halted: own the journal again and go on."""
        assert self._driver is not None
        self.acquire()
        try:
            self._loop.run(self._driver.proceed())
        except BaseException:
            self.lock.release()
            raise
        self._submitted.clear()
        self._future = self._loop.submit(self._main(self._request, recheck=True))

    @property
    def halted(self) -> Halt | None:
        """Why the run halted (its ``reason`` is the banner text), or ``None``."""
        view = self.rollout_view()
        return view.halt if view is not None else None

    @property
    def awaiting_approval(self) -> bool:
        """True while a staged run waits for :meth:`proceed` to start its next wave."""
        return self._driver is not None and self._driver.awaiting

    def rollout_view(self) -> RolloutView | None:
        """A consistent copy of the waves, budget and halt (``None``: a run from before
        staged rollouts)."""
        return self._driver.view() if self._driver is not None else None

    @property
    def paused(self) -> bool:
        """True while paused."""
        return self.submitter.paused

    def cancel(self) -> None:
        """Send nothing more: unsent rows become ``NOT_SENT``; keep tracking what was sent."""
        self._call(self.submitter.cancel)
        self._call(self._wake_driver)

    def stop(self) -> None:
        """Stop submitting and polling now (rows stay as they are; resume later)."""
        self._call(self.submitter.stop)
        self._call(self._wake_driver)
        self._call(self.poller.cancel)

    def _wake_driver(self) -> None:
        if self._driver is not None:
            self._driver.wake()

    def suspend(self, grace: float = SUSPEND_GRACE) -> bool:
        """Ctrl-C: stop sending, wait up to ``grace`` seconds for POSTs under way, then stop
        polling; unsent rows stay ``PLANNED`` for a resume. False if POSTs were still out."""
        if self._future is None:
            return True
        done = self._loop.run(self._suspend(grace))
        if self._future is not None:
            self._future.result()
        self.journal.close()
        self.lock.release()
        return done

    async def _suspend(self, grace: float) -> bool:
        self.submitter.stop()
        self._wake_driver()
        done = await self.submitter.wait_posts(grace)
        await self.journal.commit("event", what="paused", posts_unanswered=self.submitter.posting)
        self.poller.cancel()
        return done

    def pause_polling(self) -> None:
        """Send no polls until :meth:`resume_polling`."""
        self._call(self.poller.pause)

    def resume_polling(self) -> None:
        """Poll again after :meth:`pause_polling`."""
        self._call(self.poller.resume)

    @property
    def running(self) -> bool:
        """True while submitting or polling."""
        return self._future is not None and not self._future.done()

    def add_done_callback(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` (from the run's thread) once the run has ended."""
        if self._future is None:
            raise RuntimeError("the run has not started")
        self._future.add_done_callback(lambda _: callback())

    def wait_submitted(self, timeout: float | None = None) -> bool:
        """Block until every planned server has been sent (or cancelled); False on timeout."""
        return self._submitted.wait(timeout)

    def wait(self, timeout: float | None = None) -> Summary:
        """Block until every row is finished (for scripts and headless notebooks)."""
        if self._future is not None:
            self._future.result(timeout)
        self.journal.close()
        self.lock.release()
        return self.summary()

    def close(self) -> None:
        """Stop everything and close the client's connections and the journal."""
        if self.running:
            self.stop()
            if self._future is not None:
                self._future.result()
        self._loop.run(self.client.aclose())
        self.journal.close()
        self.lock.release()

    def summary(self) -> Summary:
        """Counts per status and the servers not reinstalled, with the reason."""
        frame = self.book.snapshot()
        counts = {k: v for k, v in self.book.counts().items() if v}
        failed = frame[frame["status"].isin(sorted(NOT_REINSTALLED))]
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
        return Summary(counts, not_reinstalled, tuple(self.notices))


def _replay_notices(state: Replay) -> list[str]:
    notices = list(state.problems)
    expect = state.plan.get("expect")
    rows = sum(r.status != SKIPPED for r in state.records.values())
    if not state.planned or (isinstance(expect, int) and rows < expect):
        notices.append(
            f"the journal was cut short: {rows} of {expect} planned row(s) are in it; "
            "servers missing from it are left alone"
        )
    return notices
