"""The wave driver: runs a staged run's waves on the run's loop.

It sits between the pure :class:`~.rollout_state.RolloutState` and the engine. It hands the
submitter one wave at a time (a ``wave`` record is committed before the wave's first POST),
answers the submitter's last question before every POST (:meth:`WaveDriver.allow_send`:
a halt that came meanwhile keeps the row ``PLANNED``), runs the health check of every
job that ended ``SUCCESS`` (``VERIFYING`` -> ``SUCCESS`` | ``UNHEALTHY``, a ``health``
record first), and learns every final row from the book (:meth:`WaveDriver.row_final`),
writing the ``halt`` record when the error budget is passed. Bake waits between waves; an
approval waits for :meth:`WaveDriver.proceed`.

Everything here runs on the run's event loop; the state is read by views under the book's
lock (:meth:`WaveDriver.view`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from ..client import EcsClient
from .book import JobBook
from .health import DEFAULT_INTERVAL, DEFAULT_TIMEOUT, check_health, expected_status
from .journal import Journal
from .records import (
    CHANGED,
    HELD,
    NOT_SENT,
    PLANNED,
    SUCCESS,
    UNHEALTHY,
    VERIFYING,
    JobRecord,
)
from .rollout_state import RolloutState, RolloutStateError, RolloutView, outcome_of
from .submitter import FleetSubmitter

HELD_NOTE = "held: the run halted (error budget passed) before this server was sent"


class WaveDriver:
    """Feeds a staged run's waves to the submitter and checks health after each SUCCESS."""

    def __init__(
        self,
        state: RolloutState,
        *,
        client: EcsClient,
        book: JobBook,
        journal: Journal,
        submitter: FleetSubmitter,
        mode: str | None,
        health_timeout: float = DEFAULT_TIMEOUT,
        health_interval: float = DEFAULT_INTERVAL,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.state = state
        self.client = client
        self.book = book
        self.journal = journal
        self.submitter = submitter
        self.mode = mode
        self.health_timeout = health_timeout
        self.health_interval = health_interval
        self.on_change = on_change
        #: True while the driver waits for :meth:`proceed` to start the next wave.
        self.awaiting = False
        #: True while baking (waiting after a wave passed).
        self.baking = False
        self._queued: set[str] = set()
        self._change: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._checks: set[asyncio.Task[None]] = set()
        self._writes: set[asyncio.Task[None]] = set()
        self._closed = True
        self._launched = False
        self._sending = False

    # -- hooks the engine wires ------------------------------------------------------------

    def row_final(self, record: JobRecord) -> None:
        """The book's ``on_final``: a row of the plan has its outcome."""
        outcome = outcome_of(record.status)
        if outcome is None or record.key not in self.state.names:
            return
        detail = (record.note if record.status == UNHEALTHY else record.error_code) or ""
        try:
            records = self.state.record(record.key, outcome, detail)
        except RolloutStateError:
            return  # an outcome already recorded (replayed), nothing new to learn
        self._write_later(records)
        self.wake()

    def allow_send(self, key: str) -> bool:
        """The submitter's ``before_send``: mark the row sent, or keep it ``PLANNED``."""
        state = self.state
        if key not in state.names or state.was_sent(key):
            return True  # a POST sent again after it provably was not processed
        if state.may_send(key):
            state.mark_sent(key)
            return True
        self._queued.discard(key)
        return False

    def verify(self, key: str) -> None:
        """The poller's ``on_verify``: check the server's health in the background."""
        task = asyncio.create_task(self._verify(key))
        self._checks.add(task)
        task.add_done_callback(self._checked)

    def _checked(self, task: asyncio.Task[None]) -> None:
        self._checks.discard(task)
        self.wake()

    async def _verify(self, key: str) -> None:
        record = self.book.get(key)
        before = record.observed.status if record.observed is not None else None
        expected = expected_status(before, self.mode)
        health = await check_health(
            self.client,
            record.server_id,
            expected,
            timeout=self.health_timeout,
            interval=self.health_interval,
        )
        await self.journal.commit(
            "health",
            key=key,
            server_id=record.server_id,
            healthy=health.healthy,
            seen=health.seen,
        )
        if health.healthy:
            self.book.move(key, SUCCESS)
        else:
            self.book.move(key, UNHEALTHY, note=health.seen)

    # -- questions -------------------------------------------------------------------------

    @property
    def driving(self) -> bool:
        """True while waves are being driven (not yet done, halted or stopped)."""
        return self._task is not None and not self._task.done()

    @property
    def all_sent(self) -> bool:
        """True when no wave is left to send (the last wave sent, or a halt)."""
        step = self.state.step
        last = self.state.current >= len(self.state.waves)
        if not self._launched:
            return False
        if self._closed or not self._sending:
            return True
        return step in ("halted", "done") or (step == "waiting" and last)

    @property
    def busy(self) -> bool:
        """True while waves are being driven or health checks run (the poller stays up)."""
        running = self._task is not None and not self._task.done()
        return running or bool(self._checks)

    def view(self) -> RolloutView:
        """A consistent copy of the state (safe from any thread)."""
        with self.book.lock:
            return self.state.snapshot()

    # -- running ---------------------------------------------------------------------------

    def launch(self, sending: bool) -> None:
        """Start: check again every row left ``VERIFYING``, and drive the waves if
        ``sending`` (a run with nothing to send only tracks)."""
        self._change = asyncio.Event()
        self._closed = False
        self._launched = True
        self._sending = sending
        self._queued.clear()
        for record in self.book.records():
            if record.status == VERIFYING:
                self.verify(record.key)
        if sending:
            self._task = asyncio.create_task(self._drive())

    def wake(self) -> None:
        """Look at the state again (a row ended, a control changed)."""
        if self._change is not None:
            self._change.set()
        if self.on_change is not None:
            self.on_change()

    async def _wait(self, seconds: float | None = None) -> None:
        assert self._change is not None
        self._change.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._change.wait(), seconds)

    async def _drive(self) -> None:
        try:
            while True:
                if self.submitter.stopped or self.journal.replaced:
                    return
                if self.submitter.cancelled:
                    self._send(self._planned())  # the submitter makes them NOT_SENT
                    return
                step = self.state.step
                self.awaiting = step == "approval"
                if step == "ready":
                    if self.state.current and self.state.rollout.bake:
                        await self._bake()
                        continue
                    await self._commit(self.state.start_wave())
                    self._send(list(self.state.to_send()))
                elif step == "sending":
                    self._send(list(self.state.to_send()))
                    await self._wait()
                elif step in ("waiting", "approval"):
                    if step == "approval" and self.on_change is not None:
                        self.on_change()
                    await self._wait()
                else:  # halted or done
                    return
        finally:
            self.awaiting = False
            self.wake()

    async def _bake(self) -> None:
        """Wait the bake time once per wave boundary (cut short by stop or cancel)."""
        self.baking = True
        loop = asyncio.get_running_loop()
        until = loop.time() + self.state.rollout.bake
        try:
            while loop.time() < until:
                if self.submitter.stopped or self.submitter.cancelled:
                    return
                await self._wait(until - loop.time())
        finally:
            self.baking = False
        if not (self.submitter.stopped or self.submitter.cancelled):
            await self._commit(self.state.start_wave())
            self._send(list(self.state.to_send()))

    def _planned(self) -> list[str]:
        return [sid for sid in self.state.order if self.book.status_of(sid) == PLANNED]

    def _send(self, keys: list[str]) -> None:
        new = [k for k in keys if k not in self._queued]
        self._queued.update(new)
        self.submitter.submit(new)

    async def _commit(self, records: list[dict[str, Any]]) -> None:
        for item in records:
            await self.journal.commit(item["t"], **{k: v for k, v in item.items() if k != "t"})

    def _write_later(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        task = asyncio.create_task(self._commit(records))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def proceed(self) -> bool:
        """Go on after a halt (fresh budget) or approve the next wave; False: nothing to do.

        ``HELD`` rows go back to ``PLANNED``; the waves are driven again if they had ended.
        """
        if self.state.step not in ("halted", "approval"):
            return False
        await self._commit(self.state.proceed())
        for sid in self.state.order:
            if self.book.status_of(sid) == HELD:
                self.book.move(sid, PLANNED, note=None)
        if not self._closed and not self.driving:
            self._task = asyncio.create_task(self._drive())
        self.wake()
        return True

    async def close(self) -> None:
        """The run is ending: stop driving, finish writes; rows held by a halt become HELD."""
        self._closed = True
        for task in [t for t in (self._task,) if t is not None] + list(self._checks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        for sid in self.state.held:
            if self.book.status_of(sid) == PLANNED:
                self.book.move(sid, HELD, note=HELD_NOTE)
        self.book.notify()


def feed_rows(state: RolloutState, book: JobBook) -> None:
    """On resume: tell a replayed state what the rows say (sent, and final outcomes)."""
    for sid in state.order:
        if sid not in book:
            # Cut short before its row was written: left alone, as a cancelled row.
            state.record(sid, "not_sent")
            continue
        record = book.get(sid)
        if record.status == PLANNED:
            continue
        never_sent = record.status in (CHANGED, NOT_SENT) and record.attempts == 0
        if not never_sent:
            state.sent_before(sid)
        outcome = outcome_of(record.status)
        if outcome is not None:
            detail = (record.note if record.status == UNHEALTHY else record.error_code) or ""
            state.record(sid, outcome, detail)
