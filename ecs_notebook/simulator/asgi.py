"""The simulator over real HTTP: a raw ASGI app, served by uvicorn in a background thread."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, Final
from urllib.parse import quote

import uvicorn

from .dispatch import Dispatcher, exchange
from .wire import Dropped, SimRequest, SimResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: uvicorn logs this when a response is cut short, which is what ``reset``/``lost`` do.
_CUT_SHORT: Final = "ASGI callable returned without completing response."


class _DropFaultNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != _CUT_SHORT


_NOISE_FILTER: Final = _DropFaultNoise()


def _wire_headers(response: SimResponse) -> list[tuple[bytes, bytes]]:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode()))
    return headers


class AsgiApp:
    """An ASGI 3 application around a :class:`Dispatcher` (no web framework).

    ``reset`` and ``lost`` faults send a response head and return without the body, so
    uvicorn closes the connection mid-response: clients see a protocol error
    (``httpx.RemoteProtocolError``; ``requests``' ``ChunkedEncodingError``/``ConnectionError``).
    """

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        raw_path: bytes = scope.get("raw_path") or quote(scope["path"]).encode("ascii")
        request = SimRequest(
            method=scope["method"],
            path=raw_path.partition(b"?")[0].decode("latin-1"),
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]),
            body=bytes(body),
        )
        answer = await exchange(self.dispatcher, request)
        if isinstance(answer, Dropped):
            head = answer.response or SimResponse(502, [], b"x" * 64)
            await send(
                {
                    "type": "http.response.start",
                    "status": head.status,
                    "headers": _wire_headers(head),
                }
            )
            return  # uvicorn closes the connection: the body never arrives
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": _wire_headers(answer),
            }
        )
        await send({"type": "http.response.body", "body": answer.body})

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@contextmanager
def serve_app(app: AsgiApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``app`` on uvicorn in a daemon thread; yields the base URL, stops on exit.

    ``port=0`` picks a free port. Raises ``OSError`` if the address is taken.
    """
    logging.getLogger("uvicorn.error").addFilter(_NOISE_FILTER)
    sock = _bind(host, port)
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        http="h11",
        loop="asyncio",
        ws="none",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=5,
        server_header=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="ecs-simulator", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the simulator's HTTP server did not start")
            time.sleep(0.005)
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
