"""The simulator in process, as httpx transports (no socket, no port)."""

from __future__ import annotations

import asyncio

import httpx

from .dispatch import AnswerTimeout, Dispatcher, exchange, exchange_sync
from .wire import Dropped, SimRequest, SimResponse

RESET_MESSAGE = "Server disconnected without sending a response (simulated reset)."
LOST_MESSAGE = "Server disconnected without sending a response (simulated lost answer)."


def _request(request: httpx.Request, body: bytes) -> SimRequest:
    path, _, _ = request.url.raw_path.partition(b"?")
    return SimRequest(
        method=request.method,
        path=path.decode("ascii"),
        query=request.url.query.decode("ascii"),
        headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw),
        body=body,
    )


def _read_timeout(request: httpx.Request) -> float | None:
    timeouts = request.extensions.get("timeout") or {}
    value = timeouts.get("read")
    return float(value) if value is not None else None


def _response(answer: SimResponse | Dropped, request: httpx.Request) -> httpx.Response:
    if isinstance(answer, Dropped):
        message = RESET_MESSAGE if answer.kind == "reset" else LOST_MESSAGE
        raise httpx.RemoteProtocolError(message, request=request)
    return httpx.Response(
        answer.status, headers=answer.headers, content=answer.body, request=request
    )


class SimulatorTransport(httpx.AsyncBaseTransport):
    """Serves requests from the simulator on the caller's event loop.

    A ``reset`` fault raises ``httpx.RemoteProtocolError`` before the request is processed,
    a ``lost`` fault raises it after processing. The client's read timeout is honoured
    (``httpx.ReadTimeout``). Any host works.
    """

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve one request."""
        sim_request = _request(request, await request.aread())
        timeout = _read_timeout(request)
        try:
            answer = await asyncio.wait_for(exchange(self._dispatcher, sim_request), timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("simulated read timeout", request=request) from None
        return _response(answer, request)


class SyncSimulatorTransport(httpx.BaseTransport):
    """The blocking twin of :class:`SimulatorTransport` (delays block the calling thread)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Serve one request."""
        sim_request = _request(request, request.read())
        try:
            answer = exchange_sync(self._dispatcher, sim_request, _read_timeout(request))
        except AnswerTimeout:
            raise httpx.ReadTimeout("simulated read timeout", request=request) from None
        return _response(answer, request)
