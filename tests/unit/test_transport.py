"""The pooled transport (httpx over aiohttp's pool) and the httpx client EcsClient sends with.

Over real loopback sockets: what goes on the wire, what comes back, and which failures may
count as "nothing was sent" (only those lead to a POST being sent again).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import traceback
from collections.abc import AsyncIterator

import aiohttp
import httpx
import pytest

from ecs_notebook.auth import AkSkAuth, AkSkCredentials
from ecs_notebook.client import NO_RETRY, EcsClient
from ecs_notebook.client.http import ApiHttpClient
from ecs_notebook.client.retry import NOT_SENT_ERRORS
from ecs_notebook.client.transport import PooledTransport, httpx_error
from ecs_notebook.errors import ConfigurationError
from ecs_notebook.model import ReinstallRequest
from ecs_notebook.secrets import Secret

PID = "0123456789abcdef0123456789abcdef"
SID = "b0a9d2b4-2cae-4b66-a6ba-6af70f3bd7f8"


class Recorder:
    """A keep-alive HTTP/1.1 server that records each request and answers from a script."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers
        self.requests: list[tuple[bytes, bytes]] = []  # (head, body)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while self.answers:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length)
            self.requests.append((head, body))
            writer.write(self.answers.pop(0))
            await writer.drain()
        writer.close()


def answer(status: str, body: bytes, *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    rec = Recorder([])
    server = await asyncio.start_server(rec.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield rec, f"http://127.0.0.1:{port}"


def header_lines(head: bytes) -> list[str]:
    return head.decode("latin-1").split("\r\n")[1:-2]


async def test_the_request_goes_out_as_httpx_holds_it(recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    rec.answers.append(answer("200 OK", b'{"ok": true}', "Content-Type: application/json"))
    transport = PooledTransport(max_connections=4)
    request = httpx.Request(
        "POST",
        f"{url}/v2/{PID}/path%20with%20space?b=2&a=1",
        headers=[("X-Twice", "one"), ("X-Twice", "two"), ("Transfer-Encoding", "chunked")],
        content=b'{"a": 1}',
    )
    try:
        response = await transport.handle_async_request(request)
    finally:
        await transport.aclose()
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert response.extensions["reason_phrase"] == b"OK"
    (head, body), = rec.requests  # fmt: skip
    assert head.startswith(f"POST /v2/{PID}/path%20with%20space?b=2&a=1 HTTP/1.1\r\n".encode())
    lines = header_lines(head)
    assert [line for line in lines if line.lower().startswith("x-twice")] == [
        "X-Twice: one",
        "X-Twice: two",
    ]
    assert not any(line.lower().startswith("transfer-encoding") for line in lines)
    assert "Content-Length: 8" in lines and body == b'{"a": 1}'
    # Nothing of aiohttp's own: no User-Agent, Accept or Accept-Encoding httpx did not set.
    assert not any(line.lower().startswith(("user-agent", "accept")) for line in lines)


async def test_a_compressed_answer_is_decoded_by_httpx(recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    packed = gzip.compress(json.dumps({"job_id": "j1"}).encode())
    rec.answers.append(answer("200 OK", packed, "Content-Encoding: gzip"))
    async with httpx.AsyncClient(transport=PooledTransport()) as client:
        response = await client.get(f"{url}/x")
    assert response.json() == {"job_id": "j1"}


async def test_cookies_an_answer_sets_are_never_sent_back(recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    for _ in range(2):
        rec.answers.append(answer("200 OK", b"{}", "Set-Cookie: lb=node7; Path=/"))
    creds = AkSkCredentials("AK", Secret("sk"), project_id=PID)
    client = EcsClient(endpoint=url, auth=AkSkAuth(creds), project_id=PID, retry=NO_RETRY)
    async with client:
        await client.list_keypairs()
        await client.list_keypairs()
    assert len(rec.requests) == 2
    assert not any(
        line.lower().startswith("cookie") for head, _ in rec.requests for line in header_lines(head)
    )


def test_the_http_client_takes_no_cookies() -> None:
    with pytest.raises(ConfigurationError, match="no cookies"):
        ApiHttpClient(cookies={"session": "x"})
    client = ApiHttpClient()
    with pytest.raises(ConfigurationError, match="no cookies"):
        client.cookies = {"session": "x"}  # type: ignore[assignment]
    client.cookies.set("a", "b")  # a no-op store: nothing kept is ever sent
    assert isinstance(client.cookies, httpx.Cookies)


async def test_a_signed_reinstall_is_one_post_with_the_body_and_signature(
    recorder: tuple[Recorder, str],
) -> None:
    rec, url = recorder
    rec.answers.append(answer("200 OK", b'{"job_id": "ff80808288d41e1b018990260955686a"}'))
    request = ReinstallRequest(adminpass=Secret("Bench@mark123"), mode="withStopServer")
    creds = AkSkCredentials("AK", Secret("sk"), project_id=PID)
    client = EcsClient(endpoint=url, auth=AkSkAuth(creds), project_id=PID, retry=NO_RETRY)
    async with client:
        assert await client.reinstall(SID, request) == "ff80808288d41e1b018990260955686a"
    (head, body), = rec.requests  # fmt: skip
    assert head.startswith(f"POST /v2/{PID}/cloudservers/{SID}/reinstallos HTTP/1.1".encode())
    assert body == request.to_json()
    lines = header_lines(head)
    assert any(line.startswith("Authorization: SDK-HMAC-SHA256 Access=AK, ") for line in lines)
    assert f"Content-Length: {len(body)}" in lines


# -- which failures may count as "nothing was sent" ----------------------------------------


def connector_error(cls: type[aiohttp.ClientConnectorError]) -> aiohttp.ClientConnectorError:
    key = aiohttp.client_reqrep.ConnectionKey("example.com", 443, True, True, None, None, None)
    return cls(key, OSError(111, "Connection refused"))


NEVER_OPENED = [
    aiohttp.ConnectionTimeoutError("pool or connect timeout"),
    connector_error(aiohttp.ClientConnectorError),
    connector_error(aiohttp.ClientConnectorDNSError),
]
MAYBE_WRITTEN = [
    aiohttp.ServerDisconnectedError(),
    aiohttp.ClientOSError(104, "Connection reset by peer"),
    aiohttp.ClientPayloadError("truncated body"),
    aiohttp.SocketTimeoutError("read timeout"),
    aiohttp.ServerTimeoutError("read timeout"),
]


@pytest.mark.parametrize("exc", NEVER_OPENED, ids=lambda e: type(e).__name__)
def test_a_connection_that_never_opened_is_nothing_sent(exc: aiohttp.ClientError) -> None:
    mapped = httpx_error(exc)
    assert isinstance(mapped, NOT_SENT_ERRORS) and mapped.__cause__ is exc


@pytest.mark.parametrize("exc", MAYBE_WRITTEN, ids=lambda e: type(e).__name__)
def test_a_failure_after_connecting_may_have_been_sent(exc: aiohttp.ClientError) -> None:
    mapped = httpx_error(exc)
    assert isinstance(mapped, httpx.TransportError) and not isinstance(mapped, NOT_SENT_ERRORS)
    assert mapped.__cause__ is exc and str(mapped)


def test_a_url_aiohttp_cannot_use_is_an_unsupported_protocol() -> None:
    assert isinstance(httpx_error(aiohttp.InvalidURL("ftp://x")), httpx.UnsupportedProtocol)


# -- what a verbose traceback of a transport failure shows ---------------------------------

CANARY = "Canary@Secret-7731"


def verbose(exc: BaseException) -> str:
    """The traceback with every frame's locals and the whole chain (as ``pytest -l`` shows),
    from the first frame that is not this test's (whose locals hold the canary itself)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    exc = exc.with_traceback(tb)
    return "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())


async def test_a_failure_after_the_body_was_read_shows_no_body_in_any_frame() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()  # after the request was written: "maybe sent"

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = PooledTransport()
    secret = json.dumps({"os-reinstall": {"adminpass": CANARY}}).encode()
    request = httpx.Request(
        "POST", f"http://127.0.0.1:{port}/x", headers={"X-Auth-Token": CANARY}, content=secret
    )
    async with server:
        with pytest.raises(httpx.ReadError) as caught:
            await transport.handle_async_request(request)
    await transport.aclose()
    assert isinstance(caught.value.__cause__, aiohttp.ClientError)  # the cause is kept
    text = verbose(caught.value)
    assert "handle_async_request" in text and str(caught.value.__cause__) in text
    assert CANARY not in text


async def test_an_answer_that_cannot_be_decoded_shows_no_body_or_headers(
    recorder: tuple[Recorder, str],
) -> None:
    rec, url = recorder
    rec.answers.append(
        answer("200 OK", CANARY.encode(), "Content-Encoding: gzip", f"X-Subject-Token: {CANARY}")
    )
    transport = PooledTransport()
    try:
        with pytest.raises(httpx.DecodingError) as caught:
            await transport.handle_async_request(httpx.Request("GET", f"{url}/v3/auth/tokens"))
    finally:
        await transport.aclose()
    assert CANARY not in verbose(caught.value)
