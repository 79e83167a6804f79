"""Generated ``ecs-notebook`` invocations against the simulator over loopback HTTP.

Every invalid invocation must exit 2, name the bad field, and send nothing (judged by the
simulator's own request counts, ``GET /_simulator/state``); every invocation, valid or not,
must end without a traceback. Most run in process (``main(argv)`` with captured stdio), a
handful as real subprocesses (broken pipe, non-UTF-8 stdin, the console script).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import random
import subprocess
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from ecs_notebook.cli import main
from ecs_notebook.simulator import Simulator

SID = "b0a9d2b4-2cae-4b66-a6ba-6af70f3bd7f8"
GOOD_PASSWORD = "Fuzz@Secret123"
HEX32 = "0123456789abcdef0123456789abcdef"
JOB = "ff80808288d41e1b018990260955686a"


@dataclass(frozen=True)
class Case:
    """One invocation: argv (without the target), stdin, and the field an error must name."""

    argv: tuple[str, ...]
    field: str | None = None  # None: valid input (any exit status but no traceback)
    stdin: str = ""
    env: tuple[tuple[str, str], ...] = ()
    target: bool = True  # add --endpoint URL


@dataclass
class Outcome:
    code: int | None
    out: str
    err: str
    escaped: str = ""  # the traceback of an exception that escaped main()
    sent: int = 0


@dataclass
class Target:
    simulator: Simulator
    url: str
    files: Path
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url)

    def requests_seen(self) -> int:
        state = self.http.get("/_simulator/state").json()
        return sum(sum(by_status.values()) for by_status in state["requests"].values())


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    simulator = Simulator(servers=30, seed=12, job_seconds=0.2)
    files = tmp_path_factory.mktemp("fuzz-files")
    with simulator.serve() as url:
        t = Target(simulator, url, files)
        yield t
        t.http.close()


def run_in_process(target: Target, case: Case, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    argv = [*case.argv, "--endpoint", target.url] if case.target else list(case.argv)
    with monkeypatch.context() as m:
        m.setenv("HUAWEICLOUD_SDK_AK", target.simulator.access_key)
        m.setenv("HUAWEICLOUD_SDK_SK", target.simulator.secret_key.reveal())
        m.setenv("HUAWEICLOUD_SDK_PROJECT_ID", target.simulator.project_id)
        for name, value in case.env:
            m.setenv(name, value)
        m.setattr(sys, "stdin", io.StringIO(case.stdin))
        out, err = io.StringIO(), io.StringIO()
        before = target.requests_seen()
        escaped = ""
        code: int | None = None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except BaseException:
                escaped = traceback.format_exc()
        sent = target.requests_seen() - before  # GET /_simulator/state is not counted
    return Outcome(code, out.getvalue(), err.getvalue(), escaped, sent)


# -- the generated invocations -----------------------------------------------------------


def invalid_cases(files: Path) -> list[Case]:
    """Each bad value, in each command it can reach, with the field its error must name."""
    non_utf8 = files / "latin1.txt"
    non_utf8.write_bytes("caf\xe9\n".encode("latin-1"))
    short_row = files / "short.csv"
    short_row.write_text("name,id\nweb-1\n")
    bad_ids = files / "bad-ids.txt"
    bad_ids.write_text(f"{SID}\nnot-a-server\n")
    big_user_data = files / "big.yaml"
    big_user_data.write_bytes(b"#" * (33 * 1024))
    used_journal = files / "used.jsonl"
    used_journal.write_text('{"kind": "header"}\n')

    login = ["--password-stdin", "--mode", "withStopServer"]
    pw = GOOD_PASSWORD + "\n"
    # (arguments, field named in the error, stdin)
    reinstall_bad: list[tuple[list[str], str, str]] = [
        ([SID + "\n", *login], "server id", pw),
        ([SID + " ", *login], "server id", pw),
        (["../" + SID, *login], "server id", pw),
        ([SID.upper() + "x", *login], "server id", pw),
        (["", *login], "server id", pw),
        ([SID, "--keyname", "kp\n", "--userid", HEX32, "--mode", "withStopServer"], "key pair", ""),
        ([SID, "--keyname", "bad name", "--userid", HEX32], "key pair", ""),
        ([SID, "--keyname", "k" * 65, "--userid", HEX32], "key pair", ""),
        ([SID, "--keyname", "kp/../x", "--userid", HEX32], "key pair", ""),
        ([SID, "--keyname", "kp", "--userid", HEX32 + "\n"], "user id", ""),
        ([SID, "--keyname", "kp", "--userid", "a b"], "user id", ""),
        ([SID, "--keyname", "kp"], "user id", ""),
        ([SID, *login], "admin password", "short\n"),
        ([SID, *login], "admin password", "Abcd 1234\x07xyz\n"),
        ([SID, *login], "admin password", "Abcd@1234é\n"),
        ([SID, *login], "password-stdin", ""),
        ([SID, *login, "--keyname", "kp", "--userid", HEX32], "admin password", pw),
        ([SID, "--mode", "withStopServer"], "user data", ""),
        ([SID, *login, "--encrypt"], "CMK id", pw),
        ([SID, *login, "--cmk-id", "x" * 36], "CMK id", pw),
        ([SID, *login, "--encrypt", "--cmk-id", "short"], "CMK id", pw),
        ([SID, *login, "--encrypt", "--cmk-id", "a" * 35 + "\n"], "CMK id", pw),
        ([SID, *login, "--mode", "stop"], "--mode", pw),
        ([SID, *login, "--concurrency", "0"], "--concurrency", pw),
        ([SID, *login, "--concurrency", "-1"], "--concurrency", pw),
        ([SID, *login, "--concurrency", "1.5"], "--concurrency", pw),
        ([SID, *login, "--concurrency", "many"], "--concurrency", pw),
        ([SID, *login, "--poll-interval", "inf"], "--poll-interval", pw),
        ([SID, *login, "--poll-interval", "nan"], "--poll-interval", pw),
        ([SID, *login, "--poll-interval", "0"], "--poll-interval", pw),
        ([SID, *login, "--poll-interval", "-5"], "--poll-interval", pw),
        ([SID, *login, "--rate-limit", "-1"], "--rate-limit", pw),
        ([SID, *login, "--rate-limit", "nan"], "--rate-limit", pw),
        ([SID, *login, "--rate-limit", "inf"], "--rate-limit", pw),
        ([SID, *login, "--rate-limit", "0"], "--rate-limit", pw),
        ([SID, *login, "--expect", "0"], "--expect", pw),
        ([SID, *login, "--expect", "two"], "--expect", pw),
        ([SID, *login, "--project-id", "../x"], "project id", pw),
        ([SID, *login, "--project-id", HEX32 + "\n"], "project id", pw),
        ([SID, *login, "--project-id", HEX32[:-1]], "project id", pw),
        ([SID, *login, "--from-file", str(non_utf8)], "--from-file", pw),
        ([SID, *login, "--from-file", str(short_row)], "--from-file", pw),
        ([SID, *login, "--from-file", str(bad_ids)], "server id", pw),
        ([SID, *login, "--from-file", str(files / "missing.txt")], "--from-file", pw),
        ([SID, *login, "--from-file", str(files)], "--from-file", pw),
        ([SID, *login, "--from-file", "/dev/zero"], "--from-file", pw),
        ([SID, *login, "--user-data", "/dev/zero"], "--user-data", pw),
        ([SID, *login, "--user-data", str(files / "missing.yaml")], "--user-data", pw),
        ([SID, *login, "--user-data", str(big_user_data)], "user data", pw),
        ([SID, *login, "--csv", str(files)], "--csv", pw),
        ([SID, *login, "--csv", str(files / "no" / "such" / "dir.csv")], "--csv", pw),
        ([SID, *login, "--journal", str(used_journal), "--yes"], "--journal", pw),
        (["--name-regex", "(", *login, "--expect", "1"], "--name-regex", pw),
        ([*login, "--expect", "1"], "name servers", pw),
        ([SID, *login, "--no-such-flag"], "--no-such-flag", pw),
    ]
    target_bad: list[tuple[list[str], str]] = [
        (["--endpoint", "file:///etc/passwd"], "endpoint"),
        (["--endpoint", "http://ecs.example.com"], "endpoint"),
        (["--endpoint", "ftp://127.0.0.1/"], "endpoint"),
        (["--endpoint", "https://"], "endpoint"),
        (["--endpoint", "not a url"], "endpoint"),
        (["--region", "xx-nowhere-1"], "region"),
    ]
    cases: list[Case] = []
    for args, label, stdin in reinstall_bad:
        cases.append(Case(("reinstall", *args), label, stdin))
        # A dry run writes no journal: it is not asked whether one is in use.
        if not {"--dry-run", "--no-such-flag", "--journal"} & set(args):
            cases.append(Case(("reinstall", *args, "--dry-run"), label, stdin))
    dry = ("reinstall", SID, *login, "--dry-run")
    real = ("reinstall", SID, *login, "--yes")
    for (args, label), base in itertools.product(target_bad, (dry, real)):
        cases.append(Case((*base, *args), label, GOOD_PASSWORD + "\n", target=False))
    for args, label in target_bad:
        cases.append(Case(("servers", *args), label, target=False))
        cases.append(Case(("job", JOB, *args), label, target=False))
    job_bad = ["bad id", "j\n", "../jobs", "", "x" * 65, "é"]
    for job_id in job_bad:
        cases.append(Case(("job", job_id), "job id"))
        cases.append(Case(("job", JOB, job_id, "--wait"), "job id"))
    for interval in ("0", "-1", "nan", "inf", "soon"):
        cases.append(Case(("job", JOB, "--wait", "--interval", interval), "--interval"))
    cases += [
        Case(("servers", "--project-id", "../x"), "project id"),
        Case(("servers", "--nope"), "--nope"),
        Case(("resume", "--journal", str(files / "none.jsonl")), "--journal"),
        Case(("resume", "--journal", str(used_journal), "--concurrency", "0"), "--concurrency"),
        Case((), "COMMAND", target=False),
        Case(("frobnicate",), "frobnicate", target=False),
    ]
    credentials_bad = [
        ("HUAWEICLOUD_SDK_SK", "sk with space"),
        ("HUAWEICLOUD_SDK_SK", "sk\u00e9"),
        ("HUAWEICLOUD_SDK_AK", "ak\n"),
        ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "tok\u2603"),
        ("HUAWEICLOUD_SDK_PROJECT_ID", "../x"),
    ]
    for name, value in credentials_bad:
        label = "project id" if name.endswith("PROJECT_ID") else name
        cases.append(Case(("servers",), label, env=((name, value),)))
        cases.append(Case(real, label, GOOD_PASSWORD + "\n", env=((name, value),)))
    return cases


def mixed_cases(rng: random.Random, cases: list[Case], n: int) -> list[Case]:
    """More invalid invocations: an invalid one with valid options mixed in at random."""
    extras = [
        ("--byol",),
        ("--concurrency", "3"),
        ("--rate-limit", "2.5"),
        ("--poll-interval", "0.5"),
        ("--no-wait",),
        ("--region", "tr-west-1"),
    ]
    reinstalls = [
        c
        for c in cases
        if c.argv[:1] == ("reinstall",)
        and c.target
        and not {"--journal", "--dry-run"} <= set(c.argv)
    ]
    mixed = []
    for _ in range(n):
        case = rng.choice(reinstalls)
        added = [a for extra in rng.sample(extras, rng.randint(1, 3)) for a in extra]
        argv = list(case.argv)
        argv[1:1] = added
        mixed.append(Case(tuple(argv), case.field, case.stdin, case.env, case.target))
    return mixed


def test_generated_invalid_invocations_exit_2_name_the_field_and_send_nothing(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = invalid_cases(target.files)
    cases = base + mixed_cases(random.Random(12), base, 160)
    assert len(cases) >= 300
    failures = []
    for case in cases:
        outcome = run_in_process(target, case, monkeypatch)
        problems = []
        if outcome.escaped or "Traceback" in outcome.err:
            problems.append(f"traceback:\n{outcome.escaped or outcome.err}")
        if outcome.code != 2:
            problems.append(f"exit {outcome.code}, not 2")
        if case.field and case.field not in outcome.err:
            problems.append(f"{case.field!r} not named")
        if outcome.sent:
            problems.append(f"{outcome.sent} request(s) sent")
        if problems:
            failures.append(
                f"{case.argv!r} stdin={case.stdin!r}: {'; '.join(problems)}\n{outcome.err}"
            )
    assert not failures, f"{len(failures)} of {len(cases)} failed:\n" + "\n".join(failures[:20])


def user_caused_failures(target: Target, files: Path) -> list[Case]:
    """Not invalid input, yet the user's doing: each must end in a message, not a traceback."""
    wrong_sk = (("HUAWEICLOUD_SDK_SK", "wrong-secret-key"),)
    refused = "http://127.0.0.1:9"
    login = ("--password-stdin", "--mode", "withStopServer")
    pw = GOOD_PASSWORD + "\n"
    return [
        Case(("servers",), None, env=wrong_sk),
        Case(("job", JOB), None, env=wrong_sk),
        Case(("reinstall", SID, *login, "--yes"), None, pw, env=wrong_sk),
        Case(("servers", "--endpoint", refused), None, target=False),
        Case(("job", JOB, "--endpoint", refused), None, target=False),
        Case(("reinstall", SID, *login, "--yes", "--endpoint", refused), None, pw, target=False),
        Case(("job", JOB), None),  # unknown job: 404
        Case(("reinstall", SID, *login, "--yes"), None, pw),  # unknown server: nothing to do
        Case(("servers", "--json"), None),
        Case(("servers", "--status", "ACTIVE", "--tag", "env=prod"), None),
    ]


def test_user_caused_failures_end_in_a_message_not_a_traceback(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    for case in user_caused_failures(target, target.files):
        outcome = run_in_process(target, case, monkeypatch)
        assert not outcome.escaped, outcome.escaped
        assert "Traceback" not in outcome.err, outcome.err
        assert outcome.code in (0, 1, 2, 3), (case.argv, outcome.code, outcome.err)
        if outcome.code != 0:
            assert outcome.err.strip(), case.argv  # says why


def test_wrong_sk_says_which_variable_to_check(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = Case(("servers",), None, env=(("HUAWEICLOUD_SDK_SK", "wrong-secret-key"),))
    outcome = run_in_process(target, case, monkeypatch)
    assert outcome.code == 1
    assert "hint: check HUAWEICLOUD_SDK_SK" in outcome.err
    assert "wrong-secret-key" not in outcome.err


# -- real subprocesses -------------------------------------------------------------------


def console(target: Target, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "HUAWEICLOUD_SDK_AK": target.simulator.access_key,
        "HUAWEICLOUD_SDK_SK": target.simulator.secret_key.reveal(),
        "HUAWEICLOUD_SDK_PROJECT_ID": target.simulator.project_id,
    }
    script = Path(sys.executable).parent / "ecs-notebook"
    return subprocess.run(
        [str(script), *args, "--endpoint", target.url],
        input=stdin,
        capture_output=True,
        env=env,
        check=False,
        timeout=60,
    )


def test_broken_pipe_is_quiet(target: Target) -> None:
    env = {
        **os.environ,
        "HUAWEICLOUD_SDK_AK": target.simulator.access_key,
        "HUAWEICLOUD_SDK_SK": target.simulator.secret_key.reveal(),
        "HUAWEICLOUD_SDK_PROJECT_ID": target.simulator.project_id,
    }
    script = Path(sys.executable).parent / "ecs-notebook"
    result = subprocess.run(
        ["bash", "-c", f'"{script}" servers --json --endpoint "{target.url}" | head -n 1'],
        capture_output=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.count(b"\n") == 1
    assert result.stderr == b"", result.stderr.decode()


def test_subprocess_invalid_inputs_exit_2_without_traceback(target: Target) -> None:
    before = target.requests_seen()
    for args, stdin, label in [
        (
            ("reinstall", SID, "--password-stdin", "--mode", "withStopServer"),
            b"\xff\xfe\n",
            b"password",  # "--password-stdin: not UTF-8", or (C locale) "admin password: ..."
        ),
        (("reinstall", SID + "\n", "--keyname", "kp", "--userid", HEX32), b"", b"server id"),
        (
            ("reinstall", SID, "--keyname", "kp", "--userid", HEX32, "--concurrency", "0"),
            b"",
            b"--concurrency",
        ),
    ]:
        result = console(target, *args, stdin=stdin)
        assert result.returncode == 2, result.stderr
        assert label in result.stderr and b"Traceback" not in result.stderr
    assert target.requests_seen() == before


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for code in ("0", "1", "2", "3", "130"):
        assert f"\n  {code} " in text
