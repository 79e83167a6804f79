"""The Python face of staged rollouts: ``FleetRun.start(plan, request, rollout=Rollout(...))``,
``run.halted``, ``run.proceed()`` at a wave boundary and after a halt, the health check.

Against the simulator through its in-process transport (real signing, real HTTP shapes),
judged by the simulator's ground truth; waits on book events, never on timers.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from support.sim import FAST, client_for, keypair_request

from ecs_notebook.fleet import FleetRun, Rollout, replay
from ecs_notebook.fleet.rollout import plan_order
from ecs_notebook.simulator import Simulator


def accepted(sim: Simulator) -> dict[str, int]:
    return {sid: s["reinstalls_accepted"] for sid, s in sim.state()["servers"].items()}


def eligible(sim: Simulator, n: int) -> list[str]:
    for server in sim.model.servers.values():
        server.locked, server.system_disk, server.cloud_init = False, True, True
    return [s.id for s in plan_order(sim.model.servers.values())][:n]


def new_run(sim: Simulator, path: Path) -> FleetRun:
    return FleetRun(client_for(sim), path, schedule=FAST, health_interval=0.05)


def when(run: FleetRun, condition: object) -> threading.Event:
    """An event set (from the run's thread) once ``condition()`` holds after a book change."""
    seen = threading.Event()

    def check(_: object) -> None:
        if condition():  # type: ignore[operator]
            seen.set()

    run.book.subscribe(check)
    return seen


def test_pause_between_waves_waits_for_proceed_and_nothing_more_is_sent(tmp_path: Path) -> None:
    sim = Simulator(servers=6, seed=3, job_seconds=0.3)
    ids = eligible(sim, 6)
    run = new_run(sim, tmp_path / "run.jsonl")
    request = keypair_request(sim)
    plan = run.plan(request, server_ids=ids)
    waiting_at = {k: when(run, lambda k=k: _awaiting_after(run, k)) for k in (1, 2)}
    run.start(plan.confirm(6), request, rollout=Rollout(waves=[2], pause_between_waves=True))
    assert waiting_at[1].wait(60)
    truth = accepted(sim)
    assert sum(truth.values()) == 2 and all(truth[sid] == 1 for sid in ids[:2])
    view = run.rollout_view()
    assert view is not None and view.step == "approval" and view.wave == 1
    assert run.halted is None
    run.proceed()  # wave 2; then it asks again before wave 3
    assert waiting_at[2].wait(60)
    run.proceed()
    summary = run.wait(60)
    assert summary.counts == {"SUCCESS": 6}
    assert set(accepted(sim).values()) == {1}
    approvals = [r for r in _lines(run) if r["t"] == "approve"]
    assert [(a["after"], a["wave"]) for a in approvals] == [("wave", 2), ("wave", 3)]


def test_an_unhealthy_canary_halts_and_proceed_in_process_finishes(tmp_path: Path) -> None:
    sim = Simulator(servers=5, seed=9, job_seconds=0.2)
    ids = eligible(sim, 5)
    sim.model.servers[ids[0]].unhealthy_after_reinstall = True
    run = new_run(sim, tmp_path / "run.jsonl")
    request = keypair_request(sim)
    plan = run.plan(request, server_ids=ids)
    run.start(plan.confirm(5), request, rollout=Rollout(waves=[1, 2]))
    summary = run.wait(60)
    halt = run.halted
    assert halt is not None and halt.wave == 1 and "unhealthy" in halt.reason
    assert summary.counts == {"UNHEALTHY": 1, "HELD": 4}
    assert accepted(sim) == {sid: int(sid == ids[0]) for sid in sim.state()["servers"]}

    run.proceed()  # after the run ended halted: owns the journal again and goes on
    summary = run.wait(60)
    assert run.halted is None
    assert summary.counts == {"UNHEALTHY": 1, "SUCCESS": 4}
    assert all(accepted(sim)[sid] == 1 for sid in ids)
    rows = {r.server_id: r.status for r in replay(run.journal_path).records.values()}
    assert rows == {sid: "UNHEALTHY" if sid == ids[0] else "SUCCESS" for sid in ids}


def test_no_verify_takes_the_jobs_word(tmp_path: Path) -> None:
    sim = Simulator(servers=3, seed=9, job_seconds=0.2)
    ids = eligible(sim, 3)
    sim.model.servers[ids[1]].unhealthy_after_reinstall = True
    run = new_run(sim, tmp_path / "run.jsonl")
    request = keypair_request(sim)
    plan = run.plan(request, server_ids=ids)
    run.start(plan.confirm(3), request, rollout=Rollout(verify=False))
    assert run.wait(60).counts == {"SUCCESS": 3}
    assert not [r for r in _lines(run) if r["t"] == "health"]


def test_a_rollout_must_be_a_rollout(tmp_path: Path) -> None:
    sim = Simulator(servers=2, seed=1, job_seconds=0.2)
    run = new_run(sim, tmp_path / "run.jsonl")
    request = keypair_request(sim)
    plan = run.plan(request, server_ids=eligible(sim, 2))
    with pytest.raises(TypeError, match="Rollout"):
        run.start(plan.confirm(2), request, rollout={"waves": [1]})  # type: ignore[arg-type]
    assert sum(accepted(sim).values()) == 0


def _awaiting_after(run: FleetRun, wave: int) -> bool:
    view = run.rollout_view()
    return run.awaiting_approval and view is not None and view.wave == wave


def _lines(run: FleetRun) -> list[dict[str, object]]:
    import json

    return [json.loads(line) for line in run.journal_path.read_text().splitlines()]


def test_a_run_stopped_while_verifying_checks_again_on_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from ecs_notebook.fleet import waves

    sim = Simulator(servers=3, seed=9, job_seconds=0.2)
    ids = eligible(sim, 3)
    journal = tmp_path / "run.jsonl"
    run = new_run(sim, journal)
    request = keypair_request(sim)
    plan = run.plan(request, server_ids=ids)
    real_check = waves.check_health

    async def never(*_: object, **__: object) -> object:
        await asyncio.Event().wait()  # a health check cut off by the stop below
        raise AssertionError("unreachable")

    monkeypatch.setattr(waves, "check_health", never)
    verifying = when(run, lambda: run.book.counts().get("VERIFYING", 0) == 3)
    run.start(plan.confirm(3), request)
    assert verifying.wait(60)
    run.stop()
    run.wait(60)
    assert {r.status for r in replay(journal).records.values()} == {"VERIFYING"}
    assert not [r for r in _lines(run) if r["t"] == "health"]

    monkeypatch.setattr(waves, "check_health", real_check)
    resumed = FleetRun.resume(client_for(sim), journal, schedule=FAST, health_interval=0.05)
    assert resumed.wait(60).counts == {"SUCCESS": 3}
    assert len([r for r in _lines(resumed) if r["t"] == "health"]) == 3
    assert set(accepted(sim).values()) == {1}
