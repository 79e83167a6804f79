"""The run lifecycle from the command line, in real processes over loopback HTTP:
Ctrl-C pauses (exit 130) and resume finishes; two processes on one journal; resume bound
to its endpoint and password. Judged by the simulator's ground truth: 0 twice in each.

No timers: the tests wait on the processes' own output lines and exit.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli_runs import CLI, Served, accepted, posts, reinstall_command, serve
from support.progress import wait_until_sent

from ecs_notebook.fleet import replay
from ecs_notebook.simulator import Simulator

pytestmark = pytest.mark.slow


@pytest.fixture
def served() -> Iterator[Served]:
    yield from serve(40, seed=31, job_seconds=1.0, latency_ms=30)


def reinstall(base_url: str, journal: Path, *extra: str) -> list[str]:
    return reinstall_command(base_url, journal, 40, *extra, poll_interval=0.2)


def _sigint_default() -> None:
    """Let the child see Ctrl-C even when this suite runs as a background job (a shell's
    ``&`` without job control starts it with SIGINT ignored, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(cmd: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        cmd,
        preexec_fn=_sigint_default,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    if stdin is not None:
        proc.stdin.write(stdin)
    proc.stdin.close()
    proc.stdin = None  # closed: communicate() must not flush it
    return proc


def resume(
    journal: Path, env: dict[str, str], *extra: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "resume", "--journal", str(journal), "--poll-interval", "0.2", *extra],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.timeout(180)
def test_ctrl_c_pauses_and_resume_finishes(
    served: tuple[Simulator, str, dict[str, str]], tmp_path: Path
) -> None:
    sim, base_url, env = served
    journal = tmp_path / "run.jsonl"
    password = "Pause@Resume42"
    # 4 POSTs a second: 40 servers take 10 s, so Ctrl-C after 5 lands mid-run on any machine.
    first = start(
        reinstall(base_url, journal, "--password-stdin", "--rate-limit", "4"),
        env,
        stdin=password + "\n",
    )
    wait_until_sent(first, 5)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 130, err
    assert f"ecs-notebook resume --journal {journal} --password-stdin" in err
    state = replay(journal)
    statuses = [r.status for r in state.records.values()]
    assert "PLANNED" in statuses and "NOT_SENT" not in statuses  # unsent rows stay pending
    sent = posts(sim)

    # Refused before sending: another password, another endpoint, no password.
    wrong = resume(journal, env, "--password-stdin", stdin="Other@Pass123\n")
    assert wrong.returncode == 2 and "password" in wrong.stderr
    elsewhere = resume(journal, env, "--endpoint", "http://127.0.0.1:9", "--password-stdin")
    assert elsewhere.returncode == 2 and "--endpoint" in elsewhere.stderr
    missing = resume(journal, env)
    assert missing.returncode == 2 and "--password-stdin" in missing.stderr
    assert posts(sim) == sent

    second = resume(journal, env, "--password-stdin", stdin=password + "\n")
    assert second.returncode == 0, second.stderr
    assert set(accepted(sim).values()) == {1}
    assert {r.status for r in replay(journal).records.values()} == {"SUCCESS"}


HOLDER = """
import sys, threading
from ecs_notebook.client import EcsClient
from ecs_notebook.fleet import FleetRun
from ecs_notebook.model import ReinstallRequest

base_url, journal, keyname, userid = sys.argv[1:5]
held = threading.Event()
holder = []

def listener(progress):
    if progress.accepted >= 2 and not held.is_set():
        holder[0].submitter.pause()  # like a notebook kernel with its run paused
        held.set()

client = EcsClient.connect(endpoint=base_url)
run = FleetRun(client, journal, concurrency=1, on_progress=listener)
holder.append(run)
request = ReinstallRequest(keyname=keyname, userid=userid, mode="withStopServer")
plan = run.plan(request)
run.start(plan.confirm(plan.count), request)
held.wait()
print("holding", flush=True)
sys.stdin.readline()
run.proceed()
print(run.wait().counts, flush=True)
"""


@pytest.mark.timeout(180)
def test_two_processes_on_one_journal(
    served: tuple[Simulator, str, dict[str, str]], tmp_path: Path
) -> None:
    sim, base_url, env = served
    journal = tmp_path / "run.jsonl"
    first = subprocess.Popen(
        [sys.executable, "-c", HOLDER, base_url, str(journal), sim.keypair_name, sim.user_id],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert first.stdout is not None and first.stdin is not None
    assert first.stdout.readline().strip() == "holding"
    sent = posts(sim)
    second = resume(journal, env)
    assert second.returncode == 2, second.stderr
    assert f"process {first.pid} on host {socket.gethostname()}" in second.stderr
    third = resume(journal, env)  # and again: still refused, nothing taken over
    assert third.returncode == 2
    again = subprocess.run(
        reinstall(base_url, journal, "--keyname", sim.keypair_name, "--userid", sim.user_id),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2 and "already holds a run" in again.stderr
    assert posts(sim) == sent  # the refused processes sent nothing
    first.stdin.write("go\n")
    first.stdin.close()
    first.stdin = None
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert "'SUCCESS': 40" in out
    assert set(accepted(sim).values()) == {1}
