"""The transport for real traffic: httpx's API over aiohttp's connection pool.

httpx's own pool spends milliseconds of CPU per request at 50 concurrent requests; aiohttp's
stays well under one (``benchmarks/bench_transport.py`` measures both). This is an
``httpx.AsyncBaseTransport``, so everything above it (auth, retries, ``MockTransport`` in
tests) is plain httpx; only the socket work is aiohttp's.

It is written here rather than taken from ``httpx-aiohttp`` (the transport the OpenAI SDK's
``DefaultAioHttpClient`` uses) for two reasons, both measured or tested:

- **Honest errors.** ``httpx-aiohttp`` reports every aiohttp connection error as
  ``httpx.ConnectTimeout`` ("nothing was sent"), even a server that hung up after the request
  was written: for a POST that would be retried blindly. Here an error counts as "not sent"
  only when aiohttp failed to open the connection (:func:`httpx_error`).
- **Less CPU.** API answers are small JSON documents: the body is read in one call and
  handed to httpx as bytes, not streamed through three wrappers; headers go to aiohttp as the
  raw pairs httpx holds; aiohttp keeps no cookie jar of its own (httpx's client is the one
  place where cookies would live).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping

import aiohttp
import httpx

__all__ = ["PooledTransport", "certificate_problem", "httpx_error", "pooled_transport"]

#: How long an idle pooled connection is kept (httpx's default keep-alive expiry).
KEEPALIVE_EXPIRY = 5.0


def httpx_error(exc: aiohttp.ClientError) -> httpx.TransportError:
    """The httpx error that says truthfully whether the request may have been sent.

    ``ConnectTimeout`` and ``ConnectError`` mean it was not (the connection never opened, or
    no pooled connection came free in time); every other failure may have come after the
    request was written, so it is a read or protocol error.
    """
    message = str(exc) or type(exc).__name__
    mapped: httpx.TransportError
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        mapped = httpx.ConnectTimeout(message)  # connecting, or waiting for the pool
    elif isinstance(exc, aiohttp.ClientConnectorError):
        mapped = httpx.ConnectError(message)  # refused, DNS, TLS handshake: never opened
    elif isinstance(exc, aiohttp.ServerTimeoutError):
        mapped = httpx.ReadTimeout(message)
    elif isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        mapped = httpx.UnsupportedProtocol(message)
    elif isinstance(exc, aiohttp.ClientResponseError):
        mapped = httpx.RemoteProtocolError(message)  # the answer was not valid HTTP
    else:  # disconnected, reset, a truncated body: the request may have been written
        mapped = httpx.ReadError(message)
    mapped.__cause__ = exc
    return mapped


class PooledTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose connections are pooled by aiohttp.

    The aiohttp session is opened on first use, on the loop that uses it (the notebook's
    private loop, or the CLI's), and closed by :meth:`aclose`.
    """

    def __init__(
        self,
        *,
        max_connections: int = 100,
        ssl_context: ssl.SSLContext | None = None,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self._ssl = ssl_context or httpx.create_ssl_context()
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def __repr__(self) -> str:
        return f"PooledTransport(max_connections={self.max_connections})"

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.max_connections,
            limit_per_host=0,
            keepalive_timeout=self.keepalive_expiry,
            ssl=self._ssl,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,  # httpx decodes Content-Encoding, as it does for its own pool
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        )
        return self._session

    def _timeout(self, extension: Mapping[str, float | None]) -> aiohttp.ClientTimeout:
        key = (extension.get("connect"), extension.get("read"), extension.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            timeout = aiohttp.ClientTimeout(sock_connect=connect, sock_read=read, connect=pool)
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # The body and headers (an admin password, a token) are passed straight through, not
        # kept in this frame's locals, and a failure keeps aiohttp's message but drops its
        # frames (whose locals hold them): a verbose traceback shows neither.
        session = self._session or self._open()
        try:
            async with session.request(
                request.method,
                str(request.url),
                headers=_headers(request),
                data=await _body(request),
                allow_redirects=False,
                compress=False,
                timeout=self._timeout(request.extensions.get("timeout", {})),
                server_hostname=request.extensions.get("sni_hostname"),
            ) as answer:
                content = await answer.read()
        except aiohttp.ClientError as exc:
            raise httpx_error(_without_frames(exc)) from exc
        try:
            return _as_httpx(answer, content, request)
        except httpx.DecodingError as exc:  # a body that does not match its Content-Encoding
            del answer, content  # answers carry tokens too (IAM, STS): not in the locals
            raise httpx.DecodingError(str(exc), request=request) from None

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def _as_httpx(
    answer: aiohttp.ClientResponse, content: bytes, request: httpx.Request
) -> httpx.Response:
    """The answer as httpx's, its body read (and decoded) here, not streamed."""
    extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
    if answer.reason:
        extensions["reason_phrase"] = answer.reason.encode("latin-1", "replace")
    return httpx.Response(
        answer.status,
        headers=answer.raw_headers,
        content=content,
        request=request,
        extensions=extensions,
    )


def _without_frames(exc: aiohttp.ClientError) -> aiohttp.ClientError:
    """``exc`` and what caused it, their messages kept and their tracebacks dropped."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        seen.__traceback__ = None
        seen = seen.__cause__ or seen.__context__
    return exc


def _headers(request: httpx.Request) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in request.headers.raw
        if name.lower() != b"transfer-encoding"  # aiohttp frames the body itself
    ]


async def _body(request: httpx.Request) -> bytes | None:
    try:
        return request.content or None
    except httpx.RequestNotRead:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        return b"".join([part async for part in request.stream]) or None


def pooled_transport(max_connections: int) -> httpx.AsyncBaseTransport:
    """The transport :class:`~ecs_notebook.client.EcsClient` uses for real traffic."""
    return PooledTransport(max_connections=max_connections)


def certificate_problem(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a TLS certificate that was not trusted."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(
            seen, (ssl.SSLCertVerificationError, aiohttp.ClientConnectorCertificateError)
        ):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
