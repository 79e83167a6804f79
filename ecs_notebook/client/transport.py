"""The transport for real traffic: httpx's API over aiohttp's connection pool.

httpx's own pool spends milliseconds of CPU per request at 50 concurrent requests; aiohttp's
stays well under one (``benchmarks/bench_transport.py`` measures both). ``httpx-aiohttp``
provides the transport, as the OpenAI SDK's ``DefaultAioHttpClient`` does; this module fixes
how its network errors are reported. ``httpx-aiohttp`` reports every aiohttp connection error
as ``httpx.ConnectTimeout`` ("nothing was sent"), even a server that hung up after the request
was written: for a POST that would be retried blindly. Here an error counts as "not sent" only
when aiohttp failed to open the connection.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

__all__ = ["PooledTransport", "certificate_problem", "pooled_transport"]


def _mapped(exc: httpx.TransportError) -> httpx.TransportError:
    """The httpx error that says truthfully whether the request may have been sent."""
    cause = exc.__cause__
    message = str(exc) or type(cause).__name__
    mapped: httpx.TransportError
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        mapped = httpx.ConnectTimeout(message)  # connecting or waiting for the pool
    elif isinstance(cause, aiohttp.ClientConnectorError):
        mapped = httpx.ConnectError(message)  # the connection was never opened
    elif isinstance(cause, aiohttp.ServerTimeoutError):
        mapped = httpx.ReadTimeout(message)
    elif isinstance(cause, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)):
        mapped = httpx.ReadError(message)  # the request may have been written
    else:
        return exc
    mapped.__cause__ = cause
    return mapped


class _Stream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpx.TransportError as exc:
            raise _mapped(exc) from exc.__cause__

    async def aclose(self) -> None:
        await self._inner.aclose()


class PooledTransport(AiohttpTransport):
    """``httpx_aiohttp.AiohttpTransport`` whose errors tell "not sent" from "maybe sent"."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.TransportError as exc:
            raise _mapped(exc) from exc.__cause__
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Stream(response.stream)
        return response


def pooled_transport(max_connections: int) -> httpx.AsyncBaseTransport:
    """The transport :class:`~ecs_notebook.client.EcsClient` uses for real traffic."""
    return PooledTransport(
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
    )


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
