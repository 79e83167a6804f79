"""Client CPU per signed reinstall POST: the transport EcsClient uses beside httpx's own pool.

A minimal HTTP/1.1 server in a subprocess (not the simulator, whose own CPU would be measured)
answers every request after 50 ms of latency. For each transport and for concurrency 10 and
50, the client sends signed ``os-reinstall`` POSTs through ``EcsClient.reinstall`` (AK/SK
signing, classification, decoding: the real path) and reports its process CPU per request and
the throughput against the bound ``concurrency / latency``. The chosen transport must reach
0.85 of the bound with 1,000 POSTs at concurrency 50.

The interpreter matters at concurrency 50: from Python 3.12 aiohttp writes a request body in
an eagerly started task, the moment the request is sent; on 3.11 that task waits for every
other ready task of the loop, so requests answered together are sent again together (the
figure is printed with the interpreter's version).

    .venv/bin/python benchmarks/bench_transport.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from ecs_notebook.auth import AkSkAuth, AkSkCredentials
from ecs_notebook.client import NO_RETRY, EcsClient
from ecs_notebook.client.transport import pooled_transport
from ecs_notebook.model import ReinstallRequest
from ecs_notebook.secrets import Secret

LATENCY = 0.05
PROJECT = "0123456789abcdef0123456789abcdef"
SERVER = "b0a9d2b4-2cae-4b66-a6ba-6af70f3bd7f8"
REQUEST = ReinstallRequest(adminpass=Secret("Bench@mark123"), mode="withStopServer")
TARGET = 0.85

SERVER_CODE = r"""
import asyncio, sys
LATENCY = float(sys.argv[1])
BODY = b'{"job_id": "ff80808288d41e1b018990260955686a"}'
ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
          + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)

class Http(asyncio.Protocol):
    # Keep-alive HTTP/1.1: answer each request LATENCY seconds after it has fully arrived.
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self.buffer[:end].split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            asyncio.get_running_loop().call_later(LATENCY, self.answer)

    def answer(self):
        if not self.transport.is_closing():
            self.transport.write(ANSWER)

async def main():
    server = await asyncio.get_running_loop().create_server(Http, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
"""


@dataclass(frozen=True)
class Result:
    transport: str
    concurrency: int
    requests: int
    seconds: float
    cpu_ms_per_request: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def of_bound(self) -> float:
        return self.rate / (self.concurrency / LATENCY)


def make_client(url: str, transport: httpx.AsyncBaseTransport) -> EcsClient:
    creds = AkSkCredentials("BENCHAK", Secret("bench-secret-key"))
    return EcsClient(
        endpoint=url, auth=AkSkAuth(creds), project_id=PROJECT, transport=transport, retry=NO_RETRY
    )


async def measure(
    url: str, name: str, transport: Callable[[], httpx.AsyncBaseTransport], c: int, n: int
) -> Result:
    async with make_client(url, transport()) as client:

        async def worker(count: int) -> None:  # one of c requests in flight at any time
            for _ in range(count):
                await client.reinstall(SERVER, REQUEST)

        await asyncio.gather(*(worker(1) for _ in range(c)))  # warm-up: open the connections
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(n // c + (i < n % c)) for i in range(c)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return Result(name, c, n, wall, 1000 * cpu / n)


TRANSPORTS: dict[str, Callable[[], httpx.AsyncBaseTransport]] = {
    "aiohttp pool (chosen)": lambda: pooled_transport(100),
    "httpx's own pool": lambda: httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=100)
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 requests instead of 1,000")
    args = parser.parse_args()
    n = 200 if args.quick else 1000
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER_CODE, str(LATENCY)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        results = [
            asyncio.run(measure(url, name, factory, c, n))
            for c in (10, 50)
            for name, factory in TRANSPORTS.items()
        ]
    finally:
        server.terminate()
        server.wait()
    python = f"Python {platform.python_version()}"
    latency = f"{LATENCY * 1000:.0f} ms latency (loopback)"
    print(f"{n} signed reinstall POSTs per line, {latency}, {python}")
    print(f"{'transport':24} {'conc':>4} {'req/s':>7} {'of bound':>8} {'client CPU/req':>15}")
    for r in results:
        print(
            f"{r.transport:24} {r.concurrency:4} {r.rate:7.0f} {r.of_bound:8.2f} "
            f"{r.cpu_ms_per_request:12.2f} ms"
        )
    chosen = next(r for r in results if r.concurrency == 50 and "chosen" in r.transport)
    verdict = "meets" if chosen.of_bound >= TARGET else "MISSES"
    bound = f"{chosen.of_bound:.2f} of the bound"
    print(f"chosen transport at concurrency 50, {n} POSTs, {python}: {bound}, {verdict} {TARGET}")
    return 0 if chosen.of_bound >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
