"""One error story: one hierarchy, hints that help, truthful "nothing was sent", bounded waits.

Over real loopback sockets where the question is what the network did (aiohttp's pool), over
the simulator where the question is what the API answers, over httpx.MockTransport otherwise.
"""

from __future__ import annotations

import asyncio
import inspect
import pickle
import ssl
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ecs_notebook import errors as errors_module
from ecs_notebook.auth import AkSkAuth, AkSkCredentials, IamPasswordCredentials, TokenAuth
from ecs_notebook.cli.common import UsageError
from ecs_notebook.client import EcsClient, RetryPolicy
from ecs_notebook.errors import (
    AuthenticationError,
    CertificateError,
    EcsNotebookError,
    InputError,
    JobNotFoundError,
    OutcomeUnknownError,
    TokenError,
    TransportError,
)
from ecs_notebook.fleet import ConfirmationError
from ecs_notebook.model import ReinstallRequest, ValidationError, is_server_id
from ecs_notebook.model.ids import check_job_id
from ecs_notebook.secrets import Secret, SecretBody
from ecs_notebook.simulator import Simulator
from ecs_notebook.simulator.clock import ManualClock

PID = "0123456789abcdef0123456789abcdef"
SID = "b0a9d2b4-2cae-4b66-a6ba-6af70f3bd7f8"
REQUEST = ReinstallRequest(adminpass=Secret("Abcd@1234xyz"), mode="withStopServer")
FAST = RetryPolicy(attempts=3, base_delay=0.0)


# -- one hierarchy -----------------------------------------------------------------------


def test_every_error_class_derives_from_one_base() -> None:
    classes = [
        obj
        for obj in vars(errors_module).values()
        if inspect.isclass(obj) and issubclass(obj, BaseException)
    ]
    classes += [ValidationError, ConfirmationError, UsageError]
    assert len(classes) > 15
    assert all(issubclass(c, EcsNotebookError) for c in classes)
    for bad_input in (ValidationError, ConfirmationError, UsageError):
        assert issubclass(bad_input, InputError) and issubclass(bad_input, ValueError)
        assert bad_input.exit_code == 2 and bad_input.nothing_sent
    assert OutcomeUnknownError.exit_code == 1


# -- validation edges --------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["\n", " ", "\r\n", "\x00", "/.."])
def test_ids_and_names_must_match_whole(suffix: str) -> None:
    assert not is_server_id(SID + suffix)
    assert check_job_id("ff80808288d41e1b018990260955686a" + suffix)
    with pytest.raises(ValidationError) as caught:
        ReinstallRequest(keyname="kp" + suffix, userid=PID, mode="withStopServer").body()
    assert "keyname" in caught.value.fields


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"keyname": 5}, "keyname"),
        ({"userid": ["x"]}, "userid"),
        ({"adminpass": 12345678}, "adminpass"),
        ({"user_data": b"#cloud-config"}, "user_data"),
        ({"encrypt_system_disk": "yes"}, "__system__encrypted"),
    ],
)
def test_wrong_types_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ReinstallRequest(**changes)  # type: ignore[arg-type]
    assert field in caught.value.fields


async def test_wrong_argument_types_in_the_client_name_the_field() -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200, json={}))
    client = EcsClient(endpoint="https://ecs.example.com", auth=httpx.Auth(), project_id=PID,
                       transport=transport)  # fmt: skip
    async with client:
        for call, field in [
            (client.get_job(5), "job_id"),  # type: ignore[arg-type]
            (client.get_server(None), "server_id"),  # type: ignore[arg-type]
            (client.reinstall(SID, {"adminpass": "x"}), "request"),  # type: ignore[arg-type]
            (client.list_servers(page_size="10"), "page_size"),
            (client.list_servers(colour="red"), "colour"),
            (client.wait_for_job("j1", interval=float("nan")), "interval"),
        ]:
            with pytest.raises(ValidationError) as caught:
                await call
            assert field in caught.value.fields
    assert sent == []


def test_password_messages_never_repeat_its_characters() -> None:
    typed = "Zq\x1b[2J µ§"
    with pytest.raises(ValidationError) as caught:
        ReinstallRequest(adminpass=Secret(typed)).body()
    message = str(caught.value)
    assert not any(c in message for c in ("Zq", "\x1b", "[2J", "µ", "§"))


def test_secret_body_is_masked_until_written() -> None:
    body = REQUEST.secret_body()
    assert "Abcd@1234xyz" not in repr(body) + str(body)
    assert b"".join(body) == REQUEST.to_json()
    with pytest.raises(TypeError):
        pickle.dumps(body)
    assert isinstance(body, SecretBody)


# -- hints from the API ------------------------------------------------------------------


def sim_client(sim: Simulator, sk: str | None = None) -> EcsClient:
    creds = AkSkCredentials(sim.access_key, sk or sim.secret_key, project_id=sim.project_id)
    return EcsClient(
        endpoint=sim.endpoint,
        auth=AkSkAuth(creds),
        project_id=sim.project_id,
        transport=sim.transport(),
        retry=FAST,
    )


async def test_wrong_sk_then_lockout_say_what_to_do() -> None:
    sim = Simulator(servers=1, seed=1)
    async with sim_client(sim, sk="not-the-secret-key") as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.list_servers()
        assert "HUAWEICLOUD_SDK_SK" in caught.value.hint
        for _ in range(5):
            with pytest.raises(AuthenticationError) as caught:
                await client.list_servers()
    assert "wait 5 minutes" in caught.value.hint


async def test_skewed_clock_says_sync_the_clock() -> None:
    sim = Simulator(servers=1, seed=1, clock=ManualClock(time.time() + 3600))
    async with sim_client(sim) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.list_servers()
    assert "sync this machine's clock" in caught.value.hint


async def test_a_job_that_stays_unknown_ends_with_a_clear_error() -> None:
    polls: list[httpx.Request] = []

    def not_found(request: httpx.Request) -> httpx.Response:
        polls.append(request)
        return httpx.Response(404, json={"code": "Ecs.0614", "message": "job not found"})

    client = EcsClient(endpoint="https://ecs.example.com", auth=httpx.Auth(), project_id=PID,
                       transport=httpx.MockTransport(not_found), retry=FAST)  # fmt: skip
    async with client:
        with pytest.raises(JobNotFoundError, match="not found"):
            await client.wait_for_job("ff80808288d41e1b018990260955686a", interval=0.001)
    assert len(polls) == 5


# -- tokens: a failure there sent nothing -------------------------------------------------


@pytest.mark.parametrize("failure", ["refused", "lost"])
async def test_token_failures_are_nothing_sent_not_outcome_unknown(failure: str) -> None:
    seen: list[str] = []

    def iam_fails(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if failure == "lost":
            raise httpx.ReadError("connection closed", request=request)
        return httpx.Response(401, json={"error_code": "APIGW.0301", "error_msg": "bad user"})

    auth = TokenAuth(
        IamPasswordCredentials("user", Secret("pw"), "domain", PID),
        iam_endpoint="https://iam.example.com",
        region="tr-west-1",
    )
    client = EcsClient(endpoint="https://ecs.example.com", auth=auth, project_id=PID,
                       transport=httpx.MockTransport(iam_fails), retry=FAST)  # fmt: skip
    async with client:
        with pytest.raises(TokenError) as caught:
            await client.reinstall(SID, REQUEST)
    assert caught.value.nothing_sent and "nothing was sent" in str(caught.value)
    assert "HUAWEICLOUD_SDK_IAM_ENDPOINT" in caught.value.hint
    assert seen == ["POST /v3/auth/tokens"]  # the reinstall POST never left


async def test_a_users_own_httpx_auth_and_mock_transport_get_the_retry_rules() -> None:
    class Stamp(httpx.Auth):
        def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
            request.headers["X-Stamp"] = "1"
            yield request

    answers: list[Exception | httpx.Response] = [
        httpx.ConnectError("refused"),
        httpx.Response(200, json={"job_id": "j1"}),
    ]
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = EcsClient(endpoint="https://ecs.example.com", auth=Stamp(), project_id=PID,
                       transport=httpx.MockTransport(handler), retry=FAST)  # fmt: skip
    async with client:
        assert await client.reinstall(SID, REQUEST) == "j1"
    assert [r.headers["X-Stamp"] for r in sent] == ["1", "1"]
    assert sent[1].read() == REQUEST.to_json()


# -- the pooled transport over real sockets -----------------------------------------------


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], object]


async def serve(
    handle: Handler, ssl_context: ssl.SSLContext | None = None
) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ssl_context)  # type: ignore[arg-type]
    return server, server.sockets[0].getsockname()[1]


def aksk_client(url: str) -> EcsClient:
    creds = AkSkCredentials("AK", Secret("sk"), project_id=PID)
    return EcsClient(endpoint=url, auth=AkSkAuth(creds), project_id=PID, retry=FAST)


async def test_a_server_that_hangs_up_after_the_post_is_outcome_unknown_not_retried() -> None:
    """httpx-aiohttp calls this ConnectTimeout ("not sent"); it must not be sent again."""
    received: list[bytes] = []

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        received.append(head)
        writer.close()

    server, port = await serve(hang_up)
    async with server, aksk_client(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(OutcomeUnknownError):
            await client.reinstall(SID, REQUEST)
    assert len(received) == 1


async def test_a_refused_connection_is_retried_and_reported_as_nothing_sent() -> None:
    server, port = await serve(lambda r, w: w.close())
    server.close()
    await server.wait_closed()  # the port is now closed: connections are refused
    async with aksk_client(f"http://127.0.0.1:{port}") as client:
        retries: list[str] = []
        client.on_retry = lambda method, path, reason, delay: retries.append(reason)
        with pytest.raises(TransportError) as caught:
            await client.reinstall(SID, REQUEST)
    assert type(caught.value) is TransportError and caught.value.nothing_sent
    assert retries == ["ConnectError", "ConnectError"]


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    folder: Path = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(folder / "key.pem"),
         "-out", str(folder / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


async def test_an_untrusted_certificate_is_named_and_not_retried(
    self_signed: ssl.SSLContext,
) -> None:
    handshakes: list[int] = []

    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handshakes.append(1)
        writer.close()

    server, port = await serve(never, self_signed)
    async with server, aksk_client(f"https://127.0.0.1:{port}") as client:
        retries: list[str] = []
        client.on_retry = lambda method, path, reason, delay: retries.append(reason)
        with pytest.raises(CertificateError) as caught:
            await client.list_servers()
    assert "certificate was not trusted" in caught.value.hint
    assert retries == [] and handshakes == []  # refused during the handshake, never retried


async def test_a_redirect_is_not_followed_and_says_to_check_the_endpoint() -> None:
    sent: list[httpx.Request] = []

    def redirect(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(302, headers={"Location": "https://elsewhere.example.com/"})

    client = EcsClient(endpoint="https://ecs.example.com", auth=httpx.Auth(), project_id=PID,
                       transport=httpx.MockTransport(redirect), retry=FAST)  # fmt: skip
    async with client:
        with pytest.raises(EcsNotebookError) as caught:
            await client.reinstall(SID, REQUEST)
    assert "redirect" in caught.value.hint and len(sent) == 1
