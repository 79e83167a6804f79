"""A fleet run against the simulator: submit, track, resolve lost answers, cancel, resume."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from support.sim import FAST, client_for, keypair_request

from ecs_notebook.fleet import FleetRun, ServerFilter, replay
from ecs_notebook.model import ReinstallRequest
from ecs_notebook.secrets import Secret
from ecs_notebook.simulator import FaultSpec, Simulator


def test_run_reinstalls_every_planned_server_and_stops_by_itself(
    sim: Simulator, tmp_path: Path
) -> None:
    first, second = sim.server_ids()[:2]
    sim.model.servers[first].locked = True
    sim.model.servers[second].system_disk = False
    run = FleetRun(client_for(sim), tmp_path / "run.jsonl", schedule=FAST)
    plan = run.plan(keypair_request(sim))
    assert plan.count == 10
    assert {s.server_id for s in plan.skipped} == {first, second}
    run.start(plan.confirm(10), keypair_request(sim))
    summary = run.wait(timeout=60)
    assert not run.running
    assert summary.counts == {"SUCCESS": 10, "SKIPPED": 2}
    assert set(summary.not_reinstalled["server_id"]) == {first, second}
    truth = sim.state()["servers"]
    assert sum(s["reinstalls_accepted"] for s in truth.values()) == 10
    frame = run.book.snapshot()
    done = frame[frame["status"] == "SUCCESS"]
    assert done["job_id"].notna().all() and (done["duration"] > pd_zero()).all()


def pd_zero() -> object:
    import pandas as pd

    return pd.Timedelta(0)


def test_the_book_moves_while_the_caller_does_other_work(sim: Simulator, tmp_path: Path) -> None:
    run = FleetRun(client_for(sim), tmp_path / "run.jsonl", schedule=FAST)
    plan = run.plan(keypair_request(sim), criteria=ServerFilter(status="ACTIVE"))
    heard: list[frozenset[str]] = []
    run.book.subscribe(lambda change: heard.append(change.keys))
    run.start(plan.confirm(plan.count), keypair_request(sim))  # returns at once
    statuses_seen = set()
    deadline = time.monotonic() + 30
    while run.running and time.monotonic() < deadline:
        statuses_seen |= set(run.book.snapshot()["status"].astype(str))
        time.sleep(0.05)
    assert {"INIT", "SUCCESS"} <= statuses_seen or {"RUNNING", "SUCCESS"} <= statuses_seen
    assert len(heard) > 2  # notices came in batches, while running
    assert run.wait(5).counts["SUCCESS"] == plan.count


def test_failed_job_shows_code_and_reason(tmp_path: Path) -> None:
    sim = Simulator(servers=4, seed=2, job_seconds=0.3)
    target = sim.server_ids()[0]
    sim.model.servers[target].cloud_init = False
    run = FleetRun(client_for(sim), tmp_path / "run.jsonl", schedule=FAST)
    plan = run.plan(keypair_request(sim), server_ids=[target])
    run.start(plan.confirm(1), keypair_request(sim))
    summary = run.wait(30)
    assert summary.counts == {"FAIL": 1}
    [row] = summary.not_reinstalled.to_dict("records")
    assert row["error_code"] and row["reason"]


def test_lost_answer_is_resolved_from_the_server_and_never_resent(tmp_path: Path) -> None:
    sim = Simulator(servers=6, seed=4, job_seconds=1.5)
    run = FleetRun(client_for(sim), tmp_path / "run.jsonl", schedule=FAST)
    plan = run.plan(keypair_request(sim))
    sim.set_faults(FaultSpec.parse("lost=1.0"))  # every POST is processed, its answer lost
    run.start(plan.confirm(plan.count), keypair_request(sim))
    assert run.wait_submitted(30)
    sim.set_faults(None)
    summary = run.wait(60)
    assert summary.counts == {"SUCCESS": plan.count}
    truth = sim.state()["servers"]
    assert all(s["reinstalls_accepted"] == 1 for s in truth.values())
    assert all("job id unknown" in (r.note or "") for r in run.book.records())


def test_reset_before_processing_is_reported_not_resent(tmp_path: Path) -> None:
    sim = Simulator(servers=3, seed=5, job_seconds=0.5, faults=FaultSpec.parse("reset=1.0"))
    sim.set_faults(None)
    run = FleetRun(client_for(sim), tmp_path / "run.jsonl", schedule=FAST)
    plan = run.plan(keypair_request(sim))
    sim.set_faults("reset=1.0")
    run.start(plan.confirm(plan.count), keypair_request(sim))
    assert run.wait_submitted(30)
    sim.set_faults(None)  # the network heals; the poller now looks at the servers
    summary = run.wait(60)
    assert summary.counts == {"NOT_SENT": 3}
    assert all("not sent again" in r for r in summary.not_reinstalled["reason"])
    assert all(s["reinstalls_accepted"] == 0 for s in sim.state()["servers"].values())


def test_cancel_stops_new_submissions_and_keeps_tracking(tmp_path: Path) -> None:
    sim = Simulator(servers=30, seed=6, job_seconds=0.5, latency_ms=40)
    run = FleetRun(client_for(sim), tmp_path / "run.jsonl", schedule=FAST, concurrency=2)
    plan = run.plan(keypair_request(sim))
    run.start(plan.confirm(plan.count), keypair_request(sim))
    time.sleep(0.3)
    run.cancel()
    summary = run.wait(60)
    sent = summary.counts.get("SUCCESS", 0)
    assert 0 < sent < plan.count
    assert summary.counts["NOT_SENT"] == plan.count - sent
    truth = sim.state()["servers"]
    assert sum(s["reinstalls_accepted"] for s in truth.values()) == sent


def test_pause_holds_polling(sim: Simulator, tmp_path: Path) -> None:
    run = FleetRun(client_for(sim), tmp_path / "run.jsonl", schedule=FAST)
    plan = run.plan(keypair_request(sim))
    run.pause()
    run.start(plan.confirm(plan.count), keypair_request(sim))
    run.wait_submitted(30)
    time.sleep(1.0)
    polls_while_paused = run.poller.requests
    time.sleep(0.5)
    assert run.poller.requests == polls_while_paused
    run.unpause()
    assert run.wait(30).counts == {"SUCCESS": plan.count}


def test_journal_holds_no_password_and_resume_needs_it(tmp_path: Path) -> None:
    sim = Simulator(servers=5, seed=8, job_seconds=0.3)
    password = "Journal@Secret9"
    request = ReinstallRequest(adminpass=Secret(password), mode="withStopServer")
    journal = tmp_path / "run.jsonl"
    run = FleetRun(client_for(sim), journal, schedule=FAST)
    plan = run.plan(request)
    run.start(plan.confirm(plan.count), request)
    run.wait(30)
    text = journal.read_text()
    assert password not in text
    assert [json.loads(line)["t"] for line in text.splitlines()][:2] == ["plan", "row"]
    state = replay(journal)
    assert state.plan["request"]["password_login"] is True
    assert {r.status for r in state.records.values()} == {"SUCCESS"}


def test_resume_reattaches_finishes_and_submits_the_rest(tmp_path: Path) -> None:
    sim = Simulator(servers=8, seed=9, job_seconds=0.8)
    journal = tmp_path / "run.jsonl"
    request = keypair_request(sim)
    ids = sim.server_ids()
    first = FleetRun(client_for(sim), journal, schedule=FAST)
    plan = first.plan(request, server_ids=ids[:3])
    first.start(plan.confirm(3), request)
    first.stop()  # the kernel dies: whatever was sent is in the journal
    first.wait(10)
    # ... and so were the five servers it had planned but not sent yet:
    with journal.open("a") as handle:
        for sid in ids[3:]:
            row = {
                "t": "row",
                "key": sid,
                "server_id": sid,
                "server_name": "x",
                "status": "PLANNED",
            }
            handle.write(json.dumps(row) + "\n")
    state = replay(journal)
    assert sum(r.status == "PLANNED" for r in state.records.values()) >= 5
    second = FleetRun.resume(client_for(sim), journal, schedule=FAST)
    summary = second.wait(60)
    assert summary.counts.get("SUCCESS", 0) + summary.counts.get("NOT_SENT", 0) == 8
    assert summary.counts["SUCCESS"] >= 5
    truth = sim.state()["servers"]
    accepted = {r.server_id for r in second.book.records() if r.status == "SUCCESS"}
    assert {sid for sid, s in truth.items() if s["reinstalls_accepted"]} == accepted
    assert all(s["reinstalls_accepted"] <= 1 for s in truth.values())


def test_unanswered_post_of_a_killed_process_comes_back_unknown(tmp_path: Path) -> None:
    sim = Simulator(servers=2, seed=10, job_seconds=2.0)
    journal = tmp_path / "run.jsonl"
    server_id = sim.server_ids()[0]
    # What a process killed between "intent" and the answer leaves behind, after the POST
    # did reach the cloud:
    lines = [
        {
            "t": "plan",
            "request": {
                "keyname": sim.keypair_name,
                "userid": sim.user_id,
                "mode": "withStopServer",
            },
        },
        {
            "t": "row",
            "key": server_id,
            "server_id": server_id,
            "server_name": "x",
            "status": "PLANNED",
        },
        {"t": "intent", "key": server_id, "attempt": 1, "at": "2026-01-01T00:00:00.000Z"},
    ]
    journal.write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"t": "acc')
    sim.model.reinstall(server_id, json.loads(keypair_request(sim).to_json()))
    state = replay(journal)
    assert state.records[server_id].status == "UNKNOWN"
    assert state.problems  # the torn line is reported
    run = FleetRun.resume(client_for(sim), journal, schedule=FAST, submit_remaining=False)
    summary = run.wait(60)
    assert summary.counts == {"SUCCESS": 1}
    assert sim.state()["servers"][server_id]["reinstalls_accepted"] == 1


@pytest.mark.parametrize("confirm", [0, 11])
def test_wrong_confirmation_sends_nothing(sim: Simulator, tmp_path: Path, confirm: int) -> None:
    from ecs_notebook.fleet import ConfirmationError

    run = FleetRun(client_for(sim), tmp_path / "run.jsonl", schedule=FAST)
    plan = run.plan(keypair_request(sim))
    with pytest.raises(ConfirmationError):
        run.start(plan.confirm(confirm), keypair_request(sim))
    assert (
        "POST /v2/{project_id}/cloudservers/{server_id}/reinstallos" not in sim.state()["requests"]
    )
    assert not (tmp_path / "run.jsonl").exists()
