"""The ``ecs-notebook`` command against the simulator over loopback HTTP."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecs_notebook.cli import main
from ecs_notebook.simulator import Simulator
from ecs_notebook.simulator.clock import ManualClock

POST = "POST /v2/{project_id}/cloudservers/{server_id}/reinstallos"
PASSWORD = "Cli@Secret123"


class StepClock(ManualClock):
    """Simulated time that moves a little on every reading, never with the wall clock.

    Jobs then finish after a number of requests, however busy the machine is.
    """

    def __call__(self) -> float:
        return self.advance(0.05)


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[Simulator, str]]:
    simulator = Simulator(servers=40, seed=31, job_seconds=0.5, clock=StepClock())
    for server in simulator.model.servers.values():
        server.cloud_init = True
    with simulator.serve() as url:
        yield simulator, url


@pytest.fixture
def cli(
    sim: tuple[Simulator, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
):  # type: ignore[no-untyped-def]
    simulator, url = sim
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", simulator.access_key)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", simulator.secret_key.reveal())
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", simulator.project_id)
    monkeypatch.chdir(tmp_path)

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main([*args, "--endpoint", url] if args[0] != "simulator" else list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def posts(simulator: Simulator) -> int:
    return sum(simulator.state()["requests"].get(POST, {}).values())


def usable(simulator: Simulator, n: int) -> list[str]:
    ids = [
        sid
        for sid, s in simulator.model.servers.items()
        if not s.locked and s.system_disk and s.status in ("ACTIVE", "SHUTOFF") and s.job is None
    ]
    return ids[:n]


def test_dry_run_prints_the_masked_body_and_sends_nothing(cli, sim) -> None:  # type: ignore[no-untyped-def]
    simulator, _ = sim
    before = posts(simulator)
    sid = usable(simulator, 1)[0]
    code, out, err = cli(
        "reinstall",
        sid,
        "--password-stdin",
        "--mode",
        "withStopServer",
        "--dry-run",
        stdin=PASSWORD + "\n",
    )
    assert code == 0
    assert json.loads(out) == {"os-reinstall": {"adminpass": "********", "mode": "withStopServer"}}
    assert f"/cloudservers/{sid}/reinstallos" in err
    assert PASSWORD not in out + err
    assert posts(simulator) == before


def test_invalid_input_exits_2_names_each_field_and_sends_nothing(cli, sim) -> None:  # type: ignore[no-untyped-def]
    simulator, _ = sim
    before = posts(simulator)
    code, _, err = cli(
        "reinstall",
        "not-a-uuid",
        "--keyname",
        "bad name",
        "--encrypt",
        "--password-stdin",
        stdin="short\n",
    )
    assert code == 2
    for label in ("server id", "admin password", "key pair", "user id", "CMK id"):
        assert f"error: {label}:" in err
    assert "nothing was sent" in err
    assert "short" not in err.replace("too short", "")
    assert posts(simulator) == before


def test_reinstall_prints_job_ids_then_job_and_servers(cli, sim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    simulator, _ = sim
    ids = usable(simulator, 2)
    code, out, err = cli(
        "reinstall",
        *ids,
        "--keyname",
        simulator.keypair_name,
        "--userid",
        simulator.user_id,
        "--mode",
        "withStopServer",
        "--yes",
        "--poll-interval",
        "0.2",
        "--journal",
        str(tmp_path / "j.jsonl"),
    )
    assert code == 0, err
    lines = [line.split("\t") for line in out.splitlines() if "\t" in line]
    assert sorted(sid for sid, _ in lines) == sorted(ids)
    assert "SUCCESS  2" in out
    job_id = lines[0][1]
    code, out, _ = cli("job", job_id, "--wait", "--interval", "0.1")
    assert code == 0 and "SUCCESS" in out and job_id in out
    code, out, _ = cli("servers", "--tag", "env=prod")
    assert code == 0 and "env=prod" in out and "ID" in out.splitlines()[0]


def test_fleet_selection_needs_the_exact_count(cli, sim) -> None:  # type: ignore[no-untyped-def]
    simulator, _ = sim
    before = posts(simulator)
    base = [
        "reinstall",
        "--name-regex",
        "^db-",
        "--keyname",
        simulator.keypair_name,
        "--userid",
        simulator.user_id,
        "--mode",
        "withStopServer",
    ]
    code, _, err = cli(*base, "--yes")
    assert code == 2 and "--expect" in err
    code, _, err = cli(*base, "--expect", "999")
    assert code == 2 and "nothing was sent" in err
    assert posts(simulator) == before


def test_from_file_and_skips_are_shown(cli, sim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    simulator, _ = sim
    ids = usable(simulator, 2)
    locked = next(
        sid
        for sid, s in simulator.model.servers.items()
        if s.job is None and s.status in ("ACTIVE", "SHUTOFF") and sid not in ids
    )
    simulator.model.servers[locked].locked = True
    listing = tmp_path / "servers.csv"
    listing.write_text("id,name\n" + "".join(f"{sid},x\n" for sid in [*ids, locked]))
    code, _out, err = cli(
        "reinstall",
        "--from-file",
        str(listing),
        "--keyname",
        simulator.keypair_name,
        "--userid",
        simulator.user_id,
        "--mode",
        "withStopServer",
        "--expect",
        "2",
        "--poll-interval",
        "0.2",
        "--csv",
        str(tmp_path / "out.csv"),
    )
    assert code == 0, err
    assert "1 skipped" in err and "locked" in err
    assert (tmp_path / "out.csv").read_text().count("SUCCESS") == 2


def test_plain_http_elsewhere_is_refused(cli) -> None:  # type: ignore[no-untyped-def]
    code = main(["servers", "--endpoint", "http://ecs.example.com"])
    assert code == 2


def test_missing_credentials_say_how_to_set_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HUAWEICLOUD_SDK_AK", raising=False)
    monkeypatch.delenv("HUAWEICLOUD_SDK_SK", raising=False)
    assert main(["servers", "--endpoint", "http://127.0.0.1:9"]) == 2
    assert "HUAWEICLOUD_SDK_AK" in capsys.readouterr().err


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "ecs-notebook"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("ecs-notebook ")
