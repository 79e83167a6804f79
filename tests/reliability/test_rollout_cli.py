"""Staged rollouts from the command line, in real processes over loopback HTTP (issue 10).

Judged by the simulator's ground truth (``/_simulator/state``: POSTs received, reinstalls
accepted per server) and the journal's records, never by the code under test's own
counters: a failing canary halts after exactly one POST (exit 3); failures every tenth
server with ``--max-errors 3`` halt in the wave that passes the budget and never start
another; unhealthy servers end ``UNHEALTHY`` (exit 1); a kill in wave 2 resumes in wave 2;
``--proceed`` after a halt finishes the plan. 0 servers reinstalled twice in every one.

No timers: the tests wait on the processes' own output lines and exit.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.cli_runs import CLI, Served, accepted, posts, reinstall_command, serve

from ecs_notebook.fleet import replay
from ecs_notebook.simulator import Simulator

pytestmark = pytest.mark.slow
PASSWORD = "Stage@Rollout42"


@pytest.fixture
def served12() -> Iterator[Served]:
    yield from serve(12, seed=41, job_seconds=0.5, latency_ms=5)


@pytest.fixture
def served60() -> Iterator[Served]:
    yield from serve(60, seed=41, job_seconds=0.3, latency_ms=5)


@pytest.fixture
def served20() -> Iterator[Served]:
    # Jobs long enough that a POST cut off by the kill is still seen rebuilding on resume.
    yield from serve(20, seed=41, job_seconds=3.0, latency_ms=60)


def plan_order(sim: Simulator) -> list[str]:
    """Server ids in the order waves take them: by name, then id (the documented rule,
    computed here from the simulator's own listing)."""
    servers = sim.model.servers.values()
    return [s.id for s in sorted(servers, key=lambda s: (s.name, s.id))]


def reinstall(base_url: str, journal: Path, n: int, *extra: str) -> list[str]:
    return reinstall_command(base_url, journal, n, "--password-stdin", *extra)


def run(cmd: list[str], env: dict[str, str], stdin: str = PASSWORD + "\n") -> Any:
    return subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, timeout=150)


def resume(journal: Path, env: dict[str, str], *extra: str) -> Any:
    cmd = [*CLI, "resume", "--journal", str(journal), "--poll-interval", "0.1"]
    return run([*cmd, "--password-stdin", *extra], env)


def records(journal: Path, kind: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    return [item for item in lines if item["t"] == kind]


@pytest.mark.timeout(240)
def test_a_failing_canary_halts_after_one_reinstall_and_proceed_finishes(
    served12: Served, tmp_path: Path
) -> None:
    sim, base_url, env = served12
    order = plan_order(sim)
    sim.model.servers[order[0]].reinstall_fails = True
    journal, held = tmp_path / "run.jsonl", tmp_path / "held.txt"

    first = run(reinstall(base_url, journal, 12, "--waves", "1,5", "--held-file", str(held)), env)
    assert first.returncode == 3, first.stderr
    assert "12 servers in 4 waves: 1, 5, 5, 1" in first.stderr
    assert posts(sim) == 1  # exactly one reinstall: nothing else was sent
    assert accepted(sim) == {sid: int(sid == order[0]) for sid in order}
    assert "wave 1 of 4: 1 sent, 0 succeeded, 0 unhealthy, 1 failed, 0 held" in first.stderr
    assert "wave 2 of 4: 0 sent, 0 succeeded, 0 unhealthy, 0 failed, 5 held" in first.stderr
    assert "halted in wave 1" in first.stderr and "--proceed" in first.stderr
    assert held.read_text().split() == order[1:]  # what --from-file reads
    statuses = {r.server_id: r.status for r in replay(journal).records.values()}
    assert statuses[order[0]] == "FAIL"

    # Plain resume after a halt only tracks: nothing sent, halted again.
    again = resume(journal, env)
    assert again.returncode == 3, again.stderr
    assert posts(sim) == 1

    # --proceed: a fresh budget over what is left; the rest goes wave by wave.
    onwards = resume(journal, env, "--proceed")
    assert onwards.returncode == 1, onwards.stderr  # the canary stays FAIL
    assert set(accepted(sim).values()) == {1}  # everyone once, no one twice
    statuses = {r.server_id: r.status for r in replay(journal).records.values()}
    assert statuses == {sid: "FAIL" if sid == order[0] else "SUCCESS" for sid in order}
    assert [w["wave"] for w in records(journal, "wave")] == [1, 2, 3, 4]
    assert [a["after"] for a in records(journal, "approve")] == ["halt"]


@pytest.mark.timeout(240)
def test_failures_every_tenth_server_halt_in_the_wave_that_passes_the_budget(
    served60: Served, tmp_path: Path
) -> None:
    sim, base_url, env = served60
    order = plan_order(sim)
    failing = order[9::10]  # the last server of each wave of 10
    for sid in failing:
        sim.model.servers[sid].reinstall_fails = True
    journal = tmp_path / "run.jsonl"

    done = run(reinstall(base_url, journal, 60, "--waves", "10", "--max-errors", "3"), env)
    assert done.returncode == 3, done.stderr
    # The 4th error (wave 4) passes the budget of 3: no wave after it was ever started.
    assert [w["wave"] for w in records(journal, "wave")] == [1, 2, 3, 4]
    [halt] = records(journal, "halt")
    assert halt["wave"] == 4 and halt["errors"] == 4 and halt["budget"] == 3
    truth = accepted(sim)
    assert all(truth[sid] == 1 for sid in order[:40])
    assert all(truth[sid] == 0 for sid in order[40:])
    assert posts(sim) == 40
    statuses = {r.server_id: r.status for r in replay(journal).records.values()}
    assert [sid for sid in order if statuses[sid] == "FAIL"] == failing[:4]


@pytest.mark.timeout(240)
def test_unhealthy_servers_end_unhealthy_and_the_rest_pass(
    served12: Served, tmp_path: Path
) -> None:
    sim, base_url, env = served12
    order = plan_order(sim)
    sick = {order[3], order[8]}
    for sid in sick:
        sim.model.servers[sid].unhealthy_after_reinstall = True
    journal, table = tmp_path / "run.jsonl", tmp_path / "jobs.csv"

    # Not staged: the health check is on by default, and nothing halts.
    done = run(reinstall(base_url, journal, 12, "--csv", str(table)), env)
    assert done.returncode == 1, done.stderr
    assert set(accepted(sim).values()) == {1}
    truth = sim.state()["servers"]
    statuses = {r.server_id: r.status for r in replay(journal).records.values()}
    assert statuses == {sid: "UNHEALTHY" if sid in sick else "SUCCESS" for sid in order}
    assert {sid for sid in order if truth[sid]["status"] == "ERROR"} == sick
    health = {h["server_id"]: h for h in records(journal, "health")}
    assert {sid for sid, h in health.items() if not h["healthy"]} == sick
    assert all("ERROR" in health[sid]["seen"] for sid in sick)
    assert "UNHEALTHY" in table.read_text()


@pytest.mark.timeout(240)
def test_a_kill_in_wave_two_resumes_in_wave_two(served20: Served, tmp_path: Path) -> None:
    sim, base_url, env = served20
    order = plan_order(sim)
    journal = tmp_path / "run.jsonl"
    # Waves of 2, 15, 3: one POST at a time, so wave 2 takes a while to send.
    cmd = reinstall(base_url, journal, 20, "--waves", "2,15,3", "--max-errors", "0")
    cmd[cmd.index("--concurrency") + 1] = "1"
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write(PASSWORD + "\n")
    proc.stdin.close()
    # Its progress lines (stderr): wave 1 has passed and a job of wave 2 was accepted.
    for line in proc.stderr:
        if re.search(r"\bSUCCESS 2\b", line) and re.search(r"\b(INIT|RUNNING)\b", line):
            break
    else:
        raise AssertionError("the run ended before wave 2 was under way")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    assert [w["wave"] for w in records(journal, "wave")] == [1, 2]
    before = accepted(sim)
    assert all(before[sid] == 0 for sid in order[17:])  # wave 3 never started

    done = resume(journal, env)
    assert done.returncode == 0, done.stderr
    assert set(accepted(sim).values()) == {1}
    # The resumed run finished wave 2 before it started wave 3.
    assert [w["wave"] for w in records(journal, "wave")] == [1, 2, 3]
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    resumed_at = next(i for i, item in enumerate(lines) if item.get("what") == "resumed")
    wave3_at = next(i for i, item in enumerate(lines) if item == records(journal, "wave")[2])
    sent_between = {
        item["server_id"] for item in lines[resumed_at:wave3_at] if item["t"] == "intent"
    }
    tried = {item["server_id"] for item in lines[:resumed_at] if item["t"] == "intent"}
    unsent_in_wave2 = set(order[2:17]) - tried
    assert unsent_in_wave2 and unsent_in_wave2 <= sent_between
    assert sent_between <= set(order[2:17])
    assert {r.status for r in replay(journal).records.values()} == {"SUCCESS"}


@pytest.mark.timeout(120)
def test_pause_between_waves_without_a_terminal_is_refused_before_sending(
    served12: Served, tmp_path: Path
) -> None:
    sim, base_url, env = served12
    cmd = reinstall(base_url, tmp_path / "run.jsonl", 12, "--waves", "1,5", "--pause-between-waves")
    done = subprocess.run(
        cmd,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # no controlling terminal: nobody to ask
    )
    assert done.returncode == 2, done.stderr
    assert "--pause-between-waves" in done.stderr and "nothing was sent" in done.stderr
    assert posts(sim) == 0 and not (tmp_path / "run.jsonl").exists()


@pytest.mark.timeout(120)
def test_bad_rollout_flags_exit_2_naming_the_flag(served12: Served, tmp_path: Path) -> None:
    sim, base_url, env = served12
    for flag, value in (("--waves", "1,0"), ("--max-errors", "101%"), ("--bake", "-5")):
        done = run(reinstall(base_url, tmp_path / "run.jsonl", 12, flag, value), env)
        assert done.returncode == 2 and flag in done.stderr, (flag, done.stderr)
    assert posts(sim) == 0


# A child in its own session whose controlling terminal is the pty (for /dev/tty), then exec.
ON_A_TERMINAL = """
import fcntl, os, sys, termios
fd = int(sys.argv[1])
os.setsid()
fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
for target in (0, 1, 2):
    os.dup2(fd, target)
os.execv(sys.argv[2], sys.argv[2:])
"""


def on_a_terminal(cmd: list[str], env: dict[str, str], answers: list[str]) -> tuple[int, str]:
    """Run ``cmd`` on a pseudo-terminal, answering each ``[y/N]`` prompt in turn."""
    master, slave = pty.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    child = subprocess.Popen(
        [sys.executable, "-c", ON_A_TERMINAL, str(slave), *cmd], env=env, pass_fds=[slave]
    )
    os.close(slave)
    output, asked = b"", 0
    try:
        while True:
            try:
                chunk = os.read(master, 65536)  # blocks until output; EIO once all closed
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            while output.count(b"[y/N]") > asked:
                os.write(master, answers[asked].encode() + b"\n")
                asked += 1
    finally:
        os.close(master)
    return child.wait(timeout=60), output.decode("utf-8", "replace")


@pytest.mark.timeout(180)
def test_pause_between_waves_asks_on_the_terminal_and_no_stops_before_the_next_wave(
    served12: Served, tmp_path: Path
) -> None:
    sim, base_url, env = served12
    order = plan_order(sim)
    journal = tmp_path / "run.jsonl"
    login = ("--keyname", sim.keypair_name, "--userid", sim.user_id)
    rollout = ("--waves", "1,5", "--pause-between-waves")
    cmd = reinstall_command(base_url, journal, 12, *login, *rollout)
    code, output = on_a_terminal(cmd, env, ["y", "n"])
    assert code == 130, output
    # What the operator saw, each redraw of the bar (after a carriage return) apart.
    lines = [part for line in output.split("\n") for part in line.split("\r") if part.strip()]
    assert "start wave 2 of 4? [y/N] y" in lines and "start wave 3 of 4? [y/N] n" in lines
    assert "wave 1 of 4: 1 sent, 1 succeeded, 0 unhealthy, 0 failed, 0 held" in lines
    assert "wave 2 of 4: 5 sent, 5 succeeded, 0 unhealthy, 0 failed, 0 held" in lines
    assert any(line.startswith("continue with: ecs-notebook resume --journal") for line in lines)
    assert posts(sim) == 6  # waves 1 and 2; "n" sent nothing of wave 3
    assert accepted(sim) == {sid: int(sid in order[:6]) for sid in order}
