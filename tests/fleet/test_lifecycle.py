"""The run lifecycle in the engine: one owner per journal, resume bound to its run, replay
that never moves a row backwards, a journal removed mid-run, an API clock far from ours.

Judged by the simulator's ground truth; every situation ends with 0 servers reinstalled
twice. Waits are on events (progress listeners, run completion), never on the clock.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from support.sim import FAST, client_for, keypair_request

from ecs_notebook.fleet import (
    FleetRun,
    JournalDamagedError,
    JournalExistsError,
    JournalInUseError,
    PasswordMismatchError,
    PasswordRequiredError,
    Progress,
    RunStartedError,
    TargetMismatchError,
    replay,
)
from ecs_notebook.fleet.transitions import TABLE, allowed
from ecs_notebook.model import ReinstallRequest
from ecs_notebook.secrets import Secret
from ecs_notebook.simulator import Simulator

POST = "POST /v2/{project_id}/cloudservers/{server_id}/reinstallos"


def accepted(sim: Simulator) -> dict[str, int]:
    return {sid: s["reinstalls_accepted"] for sid, s in sim.state()["servers"].items()}


def posts(sim: Simulator) -> int:
    return sum(sim.state()["requests"].get(POST, {}).values())


def stopped_run(
    sim: Simulator, journal: Path, request: ReinstallRequest, after: int = 3
) -> FleetRun:
    """A run that stops itself (like a killed kernel) after ``after`` accepted POSTs."""
    holder: list[FleetRun] = []

    def listener(progress: Progress) -> None:
        if progress.accepted >= after:
            holder[0].submitter.stop()

    run = FleetRun(client_for(sim), journal, schedule=FAST, concurrency=1, on_progress=listener)
    holder.append(run)
    plan = run.plan(request)
    run.start(plan.confirm(plan.count), request)
    run.wait(60)
    return run


# -- one owner per journal ----------------------------------------------------------------


def test_a_second_owner_is_refused_at_once_naming_pid_and_host(tmp_path: Path) -> None:
    sim = Simulator(servers=6, seed=21, job_seconds=0.5)
    journal = tmp_path / "run.jsonl"
    request = keypair_request(sim)
    release = threading.Event()
    holder: list[FleetRun] = []

    def listener(progress: Progress) -> None:
        if progress.accepted >= 1 and not release.is_set():
            holder[0].submitter.pause()  # keeps the run alive, holding its journal
            release.set()

    first = FleetRun(client_for(sim), journal, schedule=FAST, concurrency=1, on_progress=listener)
    holder.append(first)
    plan = first.plan(request)
    first.start(plan.confirm(plan.count), request)
    assert release.wait(30)
    sent = posts(sim)
    with pytest.raises(JournalInUseError) as refused:
        FleetRun.resume(client_for(sim), journal, schedule=FAST)
    assert str(os.getpid()) in str(refused.value) and socket.gethostname() in str(refused.value)
    other = FleetRun(client_for(sim), journal, schedule=FAST)
    other_plan = other.plan(request)
    with pytest.raises(JournalInUseError):
        other.start(other_plan.confirm(other_plan.count), request)
    assert posts(sim) == sent  # nothing was sent by the refused ones
    first.proceed()
    assert first.wait(60).counts == {"SUCCESS": plan.count}
    with pytest.raises(RunStartedError):
        first.start(plan.confirm(plan.count), request)
    fresh = FleetRun(client_for(sim), journal, schedule=FAST)
    fresh_plan = fresh.plan(request)
    with pytest.raises(JournalExistsError):
        fresh.start(fresh_plan.confirm(fresh_plan.count), request)
    assert set(accepted(sim).values()) == {1}


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    sim = Simulator(servers=4, seed=22, job_seconds=0.3)
    journal = tmp_path / "run.jsonl"
    stopped_run(sim, journal, keypair_request(sim), after=1)
    (tmp_path / "run.jsonl.lock").write_text(
        json.dumps({"pid": 999999, "host": "gone", "started": "2020-01-01T00:00:00+00:00"})
    )
    run = FleetRun.resume(client_for(sim), journal, schedule=FAST)
    assert run.wait(60).counts == {"SUCCESS": 4}
    assert set(accepted(sim).values()) == {1}


# -- resume is bound to its run -----------------------------------------------------------


def test_resume_refuses_another_endpoint_or_project(tmp_path: Path) -> None:
    sim = Simulator(servers=4, seed=23, job_seconds=0.3)
    journal = tmp_path / "run.jsonl"
    stopped_run(sim, journal, keypair_request(sim), after=1)
    sent = posts(sim)
    other = Simulator(servers=4, seed=99, job_seconds=0.3)  # another cloud and project
    with pytest.raises(TargetMismatchError, match="project"):
        FleetRun.resume(client_for(other), journal, schedule=FAST)
    # The same cloud, reached at another endpoint:
    with sim.serve() as base_url, pytest.raises(TargetMismatchError, match="endpoint"):
        FleetRun.resume(client_for(sim, base_url), journal, schedule=FAST)
    assert posts(sim) == sent and posts(other) == 0
    assert "PLANNED" in {r.status for r in replay(journal).records.values()}


def test_resume_refuses_another_password_and_needs_one(tmp_path: Path) -> None:
    sim = Simulator(servers=5, seed=24, job_seconds=0.3)
    journal = tmp_path / "run.jsonl"
    request = ReinstallRequest(adminpass=Secret("First@Pass123"), mode="withStopServer")
    stopped_run(sim, journal, request, after=2)
    sent = posts(sim)
    with pytest.raises(PasswordMismatchError):
        FleetRun.resume(client_for(sim), journal, adminpass=Secret("Other@Pass456"))
    with pytest.raises(PasswordRequiredError):
        FleetRun.resume(client_for(sim), journal)
    assert posts(sim) == sent
    run = FleetRun.resume(
        client_for(sim), journal, adminpass=Secret("First@Pass123"), schedule=FAST
    )
    assert run.wait(60).counts == {"SUCCESS": 5}
    assert set(accepted(sim).values()) == {1}


# -- resume never trusts the file alone ---------------------------------------------------


def test_resume_sends_only_to_servers_unchanged_since_the_plan(tmp_path: Path) -> None:
    sim = Simulator(servers=6, seed=25, job_seconds=0.3)
    journal = tmp_path / "run.jsonl"
    stopped_run(sim, journal, keypair_request(sim), after=2)
    left = [r.server_id for r in replay(journal).records.values() if r.status == "PLANNED"]
    touched = left[0]
    sim.model.reinstall(touched, json.loads(keypair_request(sim).to_json()))  # someone else
    run = FleetRun.resume(client_for(sim), journal, schedule=FAST)
    summary = run.wait(60)
    assert summary.counts == {"SUCCESS": 5, "CHANGED": 1}
    [row] = summary.not_reinstalled.to_dict("records")
    assert row["server_id"] == touched and "changed since the plan" in row["reason"]
    assert set(accepted(sim).values()) == {1}


@pytest.mark.parametrize("kept", [0.1, 0.3])
def test_a_truncated_journal_reinstalls_nothing_twice(tmp_path: Path, kept: float) -> None:
    sim = Simulator(servers=40, seed=26, job_seconds=0.3)
    journal = tmp_path / "run.jsonl"
    run = FleetRun(client_for(sim), journal, schedule=FAST)
    plan = run.plan(keypair_request(sim))
    run.start(plan.confirm(40), keypair_request(sim))
    assert run.wait(60).counts == {"SUCCESS": 40}
    data = journal.read_bytes()
    journal.write_bytes(data[: int(len(data) * kept)])
    resumed = FleetRun.resume(client_for(sim), journal, schedule=FAST)
    summary = resumed.wait(60)
    assert set(accepted(sim).values()) == {1}
    assert summary.notices  # a torn last line, and rows missing when cut inside the plan
    assert ("cut short" in " ".join(summary.notices)) == (len(resumed.book) < 40)
    # Rows whose sending was cut off the file were re-read: changed since the plan, not sent.
    assert summary.counts.get("CHANGED", 0) > 0
    assert set(summary.counts) <= {"SUCCESS", "CHANGED", "UNCONFIRMED"}


def test_duplicated_lines_cannot_move_a_row_backwards(tmp_path: Path) -> None:
    sim = Simulator(servers=12, seed=27, job_seconds=0.3)
    journal = tmp_path / "run.jsonl"
    stopped_run(sim, journal, keypair_request(sim), after=4)
    before = {k: r.status for k, r in replay(journal).records.items()}
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines + lines[::-1] + lines))  # repeated, reversed, repeated
    assert {k: r.status for k, r in replay(journal).records.items()} == before
    run = FleetRun.resume(client_for(sim), journal, schedule=FAST)
    assert run.wait(60).counts == {"SUCCESS": 12}
    assert set(accepted(sim).values()) == {1}


def test_damage_before_the_last_line_is_refused_naming_the_line(tmp_path: Path) -> None:
    sim = Simulator(servers=4, seed=28, job_seconds=0.3)
    journal = tmp_path / "run.jsonl"
    stopped_run(sim, journal, keypair_request(sim), after=1)
    lines = journal.read_text().splitlines(keepends=True)
    lines[3] = lines[3][: len(lines[3]) // 2] + "\n"
    journal.write_text("".join(lines))
    sent = posts(sim)
    with pytest.raises(JournalDamagedError, match="line 4"):
        FleetRun.resume(client_for(sim), journal, schedule=FAST)
    assert posts(sim) == sent


def test_the_transition_table_never_leaves_a_final_state() -> None:
    finals = {s for s, targets in TABLE.items() if not targets}
    assert {"SUCCESS", "FAIL", "REFUSED", "NOT_SENT", "CHANGED", "SKIPPED"} <= finals
    for final in finals:
        assert not any(allowed(final, other) for other in TABLE if other != final)
    assert not allowed("RUNNING", "INIT") and not allowed("INIT", "PLANNED")
    assert allowed("UNKNOWN", "PLANNED")  # only a POST proved not processed goes back


# -- a journal removed mid-run ------------------------------------------------------------


@pytest.mark.parametrize("how", ["removed", "replaced"])
def test_a_journal_removed_mid_run_is_noticed_and_recovered(tmp_path: Path, how: str) -> None:
    sim = Simulator(servers=10, seed=29, job_seconds=0.3, latency_ms=10)
    journal = tmp_path / "run.jsonl"
    request = keypair_request(sim)
    notices: list[str] = []

    def listener(progress: Progress) -> None:
        if progress.accepted == 3 and not notices and journal.exists():
            if how == "removed":
                journal.unlink()  # an operator cleans up the wrong directory
            else:  # or copies an old journal over it
                copy = tmp_path / "copy.jsonl"
                copy.write_bytes(journal.read_bytes())
                os.replace(copy, journal)

    run = FleetRun(
        client_for(sim),
        journal,
        schedule=FAST,
        concurrency=1,
        on_progress=listener,
        on_notice=notices.append,
    )
    plan = run.plan(request)
    run.start(plan.confirm(plan.count), request)
    summary = run.wait(60)
    recovery = run.journal.replaced_by
    assert recovery is not None and recovery.exists() and recovery.parent == tmp_path
    assert notices and str(recovery) in notices[0]
    assert 3 <= summary.counts["SUCCESS"] < plan.count  # stopped submitting, tracked the rest
    assert summary.counts["PLANNED"] == plan.count - summary.counts["SUCCESS"]
    assert oct(recovery.stat().st_mode & 0o777) == "0o600"
    resumed = FleetRun.resume(client_for(sim), recovery, schedule=FAST)
    assert resumed.wait(60).counts == {"SUCCESS": plan.count}
    assert set(accepted(sim).values()) == {1}


# -- the API's clock is not ours -----------------------------------------------------------


@pytest.mark.parametrize("skew", [-180.0, 180.0])
def test_lost_answers_with_the_api_clock_minutes_away(tmp_path: Path, skew: float) -> None:
    sim = Simulator(servers=5, seed=30, job_seconds=0.05, clock=lambda: time.time() + skew)
    run = FleetRun(client_for(sim), tmp_path / "run.jsonl", schedule=FAST)
    plan = run.plan(keypair_request(sim))
    sim.set_faults("lost=1.0")  # processed, answer lost; the jobs end before anyone looks
    run.start(plan.confirm(plan.count), keypair_request(sim))
    assert run.wait_submitted(30)
    sim.set_faults(None)
    summary = run.wait(60)
    assert set(accepted(sim).values()) == {1}  # never sent again
    assert set(summary.counts) <= {"SUCCESS", "UNCONFIRMED"}
    assert all("not processed" not in (r.note or "") for r in run.book.records())


def test_a_post_cut_off_by_a_kill_and_resolved_later_replays_as_resolved(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    lines = [
        {"t": "plan", "request": {}},
        {"t": "row", "key": "s1", "server_id": "s1", "status": "PLANNED"},
        {"t": "intent", "key": "s1", "attempt": 1},
        # ... the process was killed here; a resume resolved it from the server:
        {"t": "event", "what": "resumed"},
        {"t": "resolved", "key": "s1", "attempt": 1, "outcome": "unconfirmed", "note": "check"},
    ]
    journal.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert replay(journal).records["s1"].status == "UNCONFIRMED"
    journal.write_text("".join(json.dumps(line) + "\n" for line in [*lines[:3], lines[4]]))
    assert replay(journal).records["s1"].status == "UNCONFIRMED"
