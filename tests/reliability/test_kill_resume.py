"""A fleet run killed with SIGKILL mid-way is finished by ``ecs-notebook resume``:
no job lost, no server reinstalled twice (judged by the simulator's ground truth)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.progress import wait_until_sent

from ecs_notebook.fleet import replay
from ecs_notebook.simulator import Simulator

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "ecs_notebook.cli"]


@pytest.mark.timeout(180)
def test_sigkill_mid_run_then_resume(tmp_path: Path) -> None:
    sim = Simulator(servers=120, seed=12, job_seconds=3.0, latency_ms=40)
    for server in sim.model.servers.values():
        server.locked, server.system_disk, server.cloud_init = False, True, True
    journal = tmp_path / "fleet.jsonl"
    with sim.serve() as base_url:
        env = {
            **os.environ,
            "HUAWEICLOUD_SDK_AK": sim.access_key,
            "HUAWEICLOUD_SDK_SK": sim.secret_key.reveal(),
            "HUAWEICLOUD_SDK_PROJECT_ID": sim.project_id,
        }
        common = ["--endpoint", base_url, "--poll-interval", "0.2"]
        first = subprocess.Popen(
            [
                *CLI,
                "reinstall",
                "--name-regex",
                ".",
                "--keyname",
                sim.keypair_name,
                "--userid",
                sim.user_id,
                "--mode",
                "withStopServer",
                "--expect",
                "120",
                "--journal",
                str(journal),
                "--concurrency",
                "2",
                *common,
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_until_sent(first, 30)  # progress lines on stderr (stdout holds data only)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)  # reaps it and closes its pipes
        assert first.returncode == -signal.SIGKILL
        state = replay(journal)
        sent_before = {r.server_id for r in state.records.values() if r.status != "PLANNED"}
        in_flight = {r.server_id for r in state.interrupted}
        assert 30 <= len(sent_before) < 120

        second = subprocess.run(
            [*CLI, "resume", "--journal", str(journal), *common],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        truth = sim.state()
    assert "re-attached 120 row(s)" in second.stderr
    servers = truth["servers"]
    # Every server reinstalled exactly once: none lost, none twice.
    assert all(s["reinstalls_accepted"] == 1 for s in servers.values())
    final = replay(journal)
    statuses = {r.server_id: r.status for r in final.records.values()}
    # A POST cut off by the kill is resolved from the server: accepted while it was still
    # rebuilding, UNCONFIRMED ("check it") if it had already finished, or sent again if the
    # server shows no sign of it. Never twice.
    assert {sid for sid, st in statuses.items() if st != "SUCCESS"} <= in_flight
    odd = {sid for sid, st in statuses.items() if st not in ("SUCCESS", "UNCONFIRMED")}
    assert not odd, "\n".join(
        line for line in journal.read_text().splitlines() if any(k in line for k in odd)
    )
    assert {r.job_id for r in final.records.values() if r.job_id} <= set(truth["jobs"])
    assert second.returncode == (0 if set(statuses.values()) == {"SUCCESS"} else 1), second.stdout
