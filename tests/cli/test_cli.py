"""The ``ecs-notebook`` command against the simulator over loopback HTTP."""

from __future__ import annotations

import csv
import io
import json
import os
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
        "-f",
        "value",
        "-c",
        "server_id",
        "-c",
        "job_id",
        "-c",
        "status",
    )
    assert code == 0, err
    lines = [line.split(" ") for line in out.splitlines()]
    assert sorted(sid for sid, _, _ in lines) == sorted(ids)
    assert {status for _, _, status in lines} == {"SUCCESS"}
    assert "result: SUCCESS 2" in err
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
    assert "1 server skipped" in err and "locked" in err
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


# -- scriptable output (-f, -c, --query), progress, dry run ---------------------------------


def test_every_format_parses_and_holds_only_data(cli, sim) -> None:  # type: ignore[no-untyped-def]
    simulator, _ = sim
    everyone = set(simulator.model.servers)
    code, out, _ = cli("servers", "-f", "json")
    assert code == 0 and {s["id"] for s in json.loads(out)} == everyone
    code, out, _ = cli("servers", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {r["id"] for r in rows} == everyone
    assert list(rows[0]) == [
        *("id", "name", "status", "task_state", "locked", "image", "os", "az", "ip", "tags")
    ]
    code, out, _ = cli("servers", "-f", "value", "-c", "id")
    assert code == 0 and set(out.split()) == everyone and len(out.splitlines()) == len(everyone)
    code, out, err = cli("servers")
    assert out.splitlines()[0].split()[:3] == ["ID", "NAME", "STATUS"]
    assert len(out.splitlines()) == len(everyone) + 1 and "servers" in err  # the count: stderr


def test_columns_and_query_select(cli, sim) -> None:  # type: ignore[no-untyped-def]
    simulator, _ = sim
    locked = sorted(sid for sid, s in simulator.model.servers.items() if s.locked)
    assert locked  # the seeded fleet has locked servers
    code, out, _ = cli("servers", "-f", "json", "--query", "[?locked].id")
    assert code == 0 and sorted(json.loads(out)) == locked
    code, out, _ = cli("servers", "-f", "value", "--query", "[?locked].id")
    assert sorted(out.split()) == locked
    code, out, _ = cli("servers", "-f", "csv", "-c", "ID", "-c", "status", "--query", "[?locked]")
    assert out.splitlines()[0] == "id,status" and len(out.splitlines()) == len(locked) + 1
    code, _, err = cli("servers", "-c", "colour")
    assert code == 2 and "-c/--column: no column colour" in err
    code, _, err = cli("servers", "--query", "[?")
    assert code == 2 and "--query" in err


def test_reinstall_json_is_one_document_with_durations_in_seconds(  # type: ignore[no-untyped-def]
    cli, sim, tmp_path: Path
) -> None:
    simulator, _ = sim
    ids = usable(simulator, 2)
    code, out, err = cli(
        "reinstall",
        *ids,
        "--keyname",
        simulator.keypair_name,
        "--userid",
        simulator.user_id,
        "--yes",
        "--poll-interval",
        "0.2",
        "--csv",
        str(tmp_path / "out.csv"),
        "-f",
        "json",
    )
    assert code == 0, err
    rows = json.loads(out)  # the whole of stdout: no progress or hint line in it
    assert sorted(r["server_id"] for r in rows) == sorted(ids)
    assert all(r["status"] == "SUCCESS" and isinstance(r["duration_s"], float) for r in rows)
    assert "progress: 2/2 servers finished" in err  # stderr is not a terminal: plain lines
    exported = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text())))
    assert all(float(r["duration_s"]) >= 0 and "days" not in r["duration_s"] for r in exported)
    job_id = rows[0]["job_id"]
    code, out, err = cli("job", job_id, "--wait", "--interval", "0.05", "-f", "csv")
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row["job_id"] == job_id and row["status"] == "SUCCESS" and float(row["duration_s"]) >= 0
    assert "progress: 1/1 jobs finished" in err


def test_fleet_dry_run_lists_every_server_and_skips_locked_ones(cli, sim) -> None:  # type: ignore[no-untyped-def]
    simulator, _ = sim
    before = posts(simulator)
    web = {sid: s for sid, s in simulator.model.servers.items() if s.name.startswith("web-")}
    victim = next(sid for sid, s in web.items() if not s.locked)
    simulator.model.servers[victim].locked = True
    try:
        code, out, err = cli(
            "reinstall",
            "--name-regex",
            "^web-",
            "--keyname",
            simulator.keypair_name,
            "--userid",
            simulator.user_id,
            "--dry-run",
            "-f",
            "json",
        )
    finally:
        simulator.model.servers[victim].locked = False
    assert code == 0, err
    doc = json.loads(out)
    assert doc["body"]["os-reinstall"]["keyname"] == simulator.keypair_name
    assert doc["body"]["os-reinstall"]["mode"] == "withStopServer"  # the console's default too
    by_id = {r["server_id"]: r for r in doc["servers"]}
    assert set(by_id) == set(web)  # every selected server, reinstalled or skipped
    assert by_id[victim]["action"] == "skip" and "locked" in by_id[victim]["reason"]
    assert all(
        r["path"].endswith(f"/cloudservers/{sid}/reinstallos")
        for sid, r in by_id.items()
        if r["action"] == "reinstall"
    )
    assert "nothing was sent" in err and posts(simulator) == before


def test_mode_defaults_agree_with_the_console_and_the_help_says_so() -> None:
    from ecs_notebook.cli import build_parser
    from ecs_notebook.widgets import ReinstallForm

    parser = build_parser()
    args = parser.parse_args(["reinstall", "x", "--dry-run"])
    assert args.mode == "withStopServer" and ReinstallForm().mode.value is True
    assert parser.parse_args(["reinstall", "x", "--mode", "none"]).mode == "none"
    sub = parser._subparsers._group_actions[0].choices["reinstall"]  # type: ignore[union-attr]
    assert "the default, as the console's checkbox" in " ".join(sub.format_help().split())


def test_a_closed_pipe_ends_quietly(sim) -> None:  # type: ignore[no-untyped-def]
    """``ecs-notebook servers | head``: the reader has gone before anything is written."""
    simulator, url = sim
    env = {
        **os.environ,
        "HUAWEICLOUD_SDK_AK": simulator.access_key,
        "HUAWEICLOUD_SDK_SK": simulator.secret_key.reveal(),
        "HUAWEICLOUD_SDK_PROJECT_ID": simulator.project_id,
    }
    exe = Path(sys.executable).parent / "ecs-notebook"
    read_end, write_end = os.pipe()
    os.close(read_end)  # closed before the command starts: its first write meets EPIPE
    try:
        result = subprocess.run(
            [str(exe), "servers", "-f", "csv", "--endpoint", url],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"{len(simulator.model.servers)} servers"  # nothing else


def test_the_simulators_export_lines_paste_into_a_shell() -> None:
    from ecs_notebook.simulator.cli import export_lines

    simulator = Simulator(servers=3, seed=8)
    exe = Path(sys.executable).parent / "ecs-notebook"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUAWEICLOUD_", "ECS_NOTE"))}
    with simulator.serve() as url:
        lines = export_lines(simulator, url, {})
        assert all(
            line.startswith("export HUAWEICLOUD_SDK_") or "ECS_NOTEBOOK" in line for line in lines
        )
        script = "\n".join([*lines, f"'{exe}' servers -f value -c id"])
        result = subprocess.run(
            ["bash", "-c", script],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == sorted(simulator.model.servers)
