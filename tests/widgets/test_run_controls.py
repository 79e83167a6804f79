"""Pause / Continue / Cancel run: thin buttons over FleetRun, judged by the simulator's truth."""

from __future__ import annotations

import threading
from pathlib import Path

from support.sim import FAST, client_for, keypair_request

from ecs_notebook.fleet import BookChange, FleetRun, Progress
from ecs_notebook.simulator import Simulator
from ecs_notebook.widgets.controls import RunControls

LIVE = {"SUBMITTING", "UNKNOWN", "INIT", "RUNNING", "PENDING_PAYMENT"}


def paused_run(tmp_path: Path) -> tuple[Simulator, FleetRun, RunControls]:
    """A run whose Pause button was pressed after 2 accepted POSTs, once its jobs are done."""
    sim = Simulator(servers=12, seed=41, job_seconds=0.3, latency_ms=20)
    controls = RunControls()
    pressed = threading.Event()

    def listener(progress: Progress) -> None:
        if progress.accepted >= 2 and not pressed.is_set():
            pressed.set()
            controls.pause()

    run = FleetRun(
        client_for(sim), tmp_path / "run.jsonl", schedule=FAST, concurrency=1, on_progress=listener
    )
    settled = threading.Event()

    def watch(_change: BookChange) -> None:
        statuses = {r.status for r in run.book.records()}
        if pressed.is_set() and "PLANNED" in statuses and not statuses & LIVE:
            settled.set()

    run.book.subscribe(watch)
    plan = run.plan(keypair_request(sim))
    run.start(plan.confirm(plan.count), keypair_request(sim))
    controls.attach(run)
    assert settled.wait(60)
    return sim, run, controls


def reinstalled(sim: Simulator) -> list[int]:
    return [s["reinstalls_accepted"] for s in sim.state()["servers"].values()]


def test_pause_then_continue_sends_the_rest_once(tmp_path: Path) -> None:
    sim, run, controls = paused_run(tmp_path)
    assert controls.pause_button.disabled and not controls.continue_button.disabled
    assert not controls.cancel_button.disabled and "paused" in controls.state.value
    assert "NOT_SENT" not in {r.status for r in run.book.records()}
    controls.continue_button.click()
    summary = run.wait(60)
    assert summary.all_reinstalled
    assert set(reinstalled(sim)) == {1}
    run.journal.close()
    # The run has ended: nothing left to press.
    assert controls.pause_button.disabled and controls.cancel_button.disabled


def test_cancel_is_what_makes_the_rest_not_sent(tmp_path: Path) -> None:
    sim, run, controls = paused_run(tmp_path)
    sent = sum(reinstalled(sim))
    controls.cancel_button.click()
    summary = run.wait(60)
    assert summary.counts["NOT_SENT"] == len(run.book) - summary.counts.get("SKIPPED", 0) - sent
    assert sum(reinstalled(sim)) == sent
    assert "cancelled" in controls.state.value
