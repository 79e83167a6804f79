"""No secret in any channel: canary credentials through the CLI and the Python API.

Every logger at DEBUG (to a file and a stream), verbose tracebacks (with every frame's locals,
as IPython's verbose mode and ``pytest -l`` show them) of the errors the runs end with, and
every file the runs wrote: none holds a canary, raw, base64 or URL-encoded.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import logging
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from ecs_notebook.auth import AkSkAuth, AkSkCredentials, IamPasswordCredentials, TokenAuth
from ecs_notebook.cli import main
from ecs_notebook.client import EcsClient, RetryPolicy
from ecs_notebook.errors import EcsNotebookError
from ecs_notebook.model import ReinstallRequest
from ecs_notebook.secrets import Secret
from ecs_notebook.simulator import Simulator

SK = "Canary-SK-7f3e@9d1b!c4a2"
SECURITY_TOKEN = "Canary-STS-5b8e+0a6f/c2d9=="
TEMPORARY_AK = "CANARYTEMPAK5B8E0A6F"  # the temporary access key that goes with the token
IAM_PASSWORD = "Canary-IAM-pw@3c7a!e1"
ADMIN_PASSWORD = "Cn@ry-Adm1n-8e2f"
BAD_ADMIN_PASSWORD = "Cn@ry bad\x07pw é"


def forms(secret: str) -> set[str]:
    """The canary as it could appear: raw, base64 (std and URL-safe), URL-encoded."""
    raw = secret.encode()
    return {
        secret,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        quote(secret, safe=""),
        quote(secret),
        secret.encode("unicode_escape").decode(),
        repr(secret)[1:-1],
    }


@contextlib.contextmanager
def debug_everywhere(log_file: Path) -> Iterator[io.StringIO]:
    """Every logger (already created or not) at DEBUG, to ``log_file`` and to a stream."""
    stream = io.StringIO()
    handlers: list[logging.Handler] = [
        logging.FileHandler(log_file, encoding="utf-8"),
        logging.StreamHandler(stream),
    ]
    fmt = logging.Formatter("%(name)s %(levelname)s %(message)s")
    root = logging.getLogger()
    saved = root.level, {n: logging.getLogger(n).level for n in root.manager.loggerDict}
    for handler in handlers:
        handler.setFormatter(fmt)
        handler.setLevel(logging.DEBUG)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in root.manager.loggerDict:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


def verbose_traceback(exc: BaseException) -> str:
    """The traceback with every frame's local variables, as verbose reporters show it.

    This test's own frames (which hold the canaries on purpose) are left out.
    """
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    exc = exc.with_traceback(tb)
    return "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())


def assert_no_canary(texts: dict[str, str], secrets: list[str]) -> None:
    found = [
        f"{where}: {form!r}"
        for where, text in texts.items()
        for secret in secrets
        for form in forms(secret)
        if form in text
    ]
    assert not found, found


def written_files(root: Path) -> dict[str, str]:
    return {
        str(p): p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file()
    }


@pytest.fixture
def sim() -> Iterator[tuple[Simulator, str]]:
    simulator = Simulator(
        servers=6, seed=5, job_seconds=0.2, secret_key=SK, iam_password=IAM_PASSWORD
    )
    # The canary security token is a real temporary credential (with SK as its secret), so
    # the simulator accepts the requests that carry it.
    simulator.iam.grant_temporary(TEMPORARY_AK, SK, SECURITY_TOKEN)
    with simulator.serve() as url:
        yield simulator, url


def test_cli_runs_leak_no_canary(
    sim: tuple[Simulator, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator, url = sim
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", TEMPORARY_AK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", SK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", SECURITY_TOKEN)
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", simulator.project_id)
    sid = next(
        s.id
        for s in simulator.model.servers.values()
        if not s.locked and s.system_disk and s.status in ("ACTIVE", "SHUTOFF") and s.job is None
    )
    login = ["--password-stdin", "--mode", "withStopServer", "--endpoint", url]
    runs = [
        (["reinstall", sid, *login, "--dry-run"], ADMIN_PASSWORD),
        (["reinstall", sid, *login], BAD_ADMIN_PASSWORD),
        (
            ["reinstall", sid, *login, "--yes", "--poll-interval", "0.2", "--csv", "jobs.csv"],
            ADMIN_PASSWORD,
        ),
        (["servers", "--json", "--endpoint", url], ""),
        (["servers", "--endpoint", "https://127.0.0.1:9"], ""),
    ]
    texts: dict[str, str] = {}
    with debug_everywhere(tmp_path / "debug.log") as logs:
        for number, (argv, stdin) in enumerate(runs):
            out, err = io.StringIO(), io.StringIO()
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin + "\n"))
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(argv)
            texts[f"run {number} ({code}) stdout"] = out.getvalue()
            texts[f"run {number} ({code}) stderr"] = err.getvalue()
        # The lost answer: a reinstall whose POST was processed but never answered.
        simulator.set_faults("lost=1")
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdin", io.StringIO(ADMIN_PASSWORD + "\n"))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(["reinstall", sid, *login, "--yes", "--no-wait", "--journal", "lost.jsonl"])
        simulator.set_faults(None)
        texts["lost stdout"], texts["lost stderr"] = out.getvalue(), err.getvalue()
        texts["logs"] = logs.getvalue()
    assert "SUCCESS" in texts["run 2 (0) stdout"]  # the real run did run
    assert "DEBUG" in texts["logs"]  # and the libraries did log
    texts.update(written_files(tmp_path))
    assert_no_canary(texts, [SK, SECURITY_TOKEN, ADMIN_PASSWORD, BAD_ADMIN_PASSWORD])


async def _api_runs(simulator: Simulator, url: str) -> tuple[list[BaseException], list[str]]:
    """Token and AK/SK clients, a lost POST and bad input: the errors and the IAM token."""
    errors: list[BaseException] = []
    retry = RetryPolicy(attempts=2, base_delay=0.0)

    def token_auth() -> TokenAuth:
        return TokenAuth(
            IamPasswordCredentials(
                simulator.iam_user, Secret(IAM_PASSWORD), simulator.iam_domain, simulator.project_id
            ),
            iam_endpoint=url,
            region=simulator.region,
        )

    token_auths = [token_auth(), token_auth()]
    aksk = AkSkAuth(
        AkSkCredentials(TEMPORARY_AK, Secret(SK), Secret(SECURITY_TOKEN), simulator.project_id)
    )
    sid = next(iter(simulator.model.servers))
    request = ReinstallRequest(adminpass=Secret(ADMIN_PASSWORD), mode="withStopServer")
    # The default transport (aiohttp's pool), and httpx's own, whose httpcore logger records
    # every answer's headers (x-subject-token among them) at DEBUG.
    runs = [
        (token_auths[0], None),
        (token_auths[1], httpx.AsyncHTTPTransport()),
        (aksk, None),
        (aksk, httpx.AsyncHTTPTransport()),
    ]
    for auth, transport in runs:
        async with EcsClient(
            endpoint=url,
            auth=auth,
            project_id=simulator.project_id,
            retry=retry,
            transport=transport,
        ) as client:
            await client.list_servers()
            simulator.set_faults("lost=1")
            try:
                await client.reinstall(sid, request)
            except EcsNotebookError as exc:
                errors.append(exc)
            simulator.set_faults(None)
    try:
        ReinstallRequest(adminpass=Secret(BAD_ADMIN_PASSWORD)).body()
    except EcsNotebookError as exc:
        errors.append(exc)
    wrong = TokenAuth(
        IamPasswordCredentials(
            simulator.iam_user, Secret(IAM_PASSWORD + "x"), simulator.iam_domain, None
        ),
        iam_endpoint=url,
        region=simulator.region,
    )
    async with EcsClient(endpoint=url, auth=wrong, project_id=simulator.project_id) as client:
        try:
            await client.list_servers()
        except EcsNotebookError as exc:
            errors.append(exc)
    tokens = [auth._token.reveal() for auth in token_auths if auth._token is not None]
    assert len(tokens) == 2
    return errors, tokens


def test_python_api_leaks_no_canary_in_logs_or_verbose_tracebacks(
    sim: tuple[Simulator, str], tmp_path: Path
) -> None:
    simulator, url = sim
    with debug_everywhere(tmp_path / "debug.log") as logs:
        errors, tokens = asyncio.run(_api_runs(simulator, url))
    kinds = sorted(type(e).__name__ for e in errors)
    assert kinds == [
        "OutcomeUnknownError",
        "OutcomeUnknownError",
        "OutcomeUnknownError",
        "OutcomeUnknownError",
        "TokenError",
        "ValidationError",
    ], kinds
    texts = {f"traceback {i}": verbose_traceback(e) for i, e in enumerate(errors)}
    texts |= {f"message {i}": f"{e!s} {e!r} {getattr(e, 'hint', '')}" for i, e in enumerate(errors)}
    texts["logs"] = logs.getvalue()
    texts.update(written_files(tmp_path))
    assert "x-subject-token" in texts["logs"].lower()  # the channel was exercised
    assert_no_canary(
        texts, [SK, SECURITY_TOKEN, IAM_PASSWORD, ADMIN_PASSWORD, BAD_ADMIN_PASSWORD, *tokens]
    )
