"""Benchmark: list a 10,000-server fleet over loopback HTTP (10 pages of 1,000).

Prints the simulator's startup time, the full listing over real HTTP with plain httpx,
and two baselines measured in the same run: the same listing through the in-process
transport, and ``json.dumps`` of the 10,000 server details (a serialisation floor).
Ratios, not timed assertions.

    .venv/bin/python benchmarks/bench_simulator_listing.py [--servers 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Generator
from datetime import datetime, timezone
from urllib.parse import unquote

import httpx

from ecs_notebook.auth.signing import format_sdk_date, sign
from ecs_notebook.simulator import Simulator
from ecs_notebook.simulator.listing import MAX_LIMIT, ServerQuery


class Signer(httpx.Auth):
    """Signs with the package's pure signer (every header signed)."""

    requires_request_body = True

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Sdk-Date"] = format_sdk_date(datetime.now(timezone.utc))
        raw = request.url.query.decode()
        pairs = [
            (unquote(k), unquote(v)) for k, _, v in (p.partition("=") for p in raw.split("&") if p)
        ]
        parts = sign(
            request.method,
            request.url.raw_path.partition(b"?")[0].decode(),
            pairs,
            dict(request.headers),
            request.content,
            access_key=self.sim.access_key,
            secret_key=self.sim.secret_key.reveal(),
        )
        request.headers["Authorization"] = parts.authorization
        yield request


async def list_all(client: httpx.AsyncClient, sim: Simulator) -> int:
    """Page through the whole fleet; returns the number of servers seen."""
    seen, page = 0, 1
    while True:
        response = await client.get(
            f"/v1/{sim.project_id}/cloudservers/detail", params={"limit": MAX_LIMIT, "offset": page}
        )
        response.raise_for_status()
        data = response.json()
        seen += len(data["servers"])
        if seen >= data["count"] or not data["servers"]:
            return seen
        page += 1


async def timed(client: httpx.AsyncClient, sim: Simulator, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        assert await list_all(client, sim) == len(sim.server_ids())
        best = min(best, time.perf_counter() - started)
    return best


async def main(servers: int, rounds: int) -> None:
    started = time.perf_counter()
    sim = Simulator(servers=servers, seed=1)
    startup = time.perf_counter() - started

    details = sim.model.list_servers(ServerQuery(limit=servers or 1))[1]
    dumps = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        json.dumps({"count": servers, "servers": details}, separators=(",", ":"))
        dumps = min(dumps, time.perf_counter() - started)

    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.endpoint, auth=Signer(sim)
    ) as client:
        in_process = await timed(client, sim, rounds)
    with sim.serve() as url:
        async with httpx.AsyncClient(base_url=url, auth=Signer(sim), timeout=60) as client:
            loopback = await timed(client, sim, rounds)

    pages = -(-servers // MAX_LIMIT)
    print(f"fleet: {servers} servers, {pages} pages of {MAX_LIMIT}, best of {rounds}")
    print(f"startup (generate fleet + simulator): {startup:8.3f} s")
    print(f"baseline: json.dumps of all details:  {dumps:8.3f} s")
    print(f"full listing, in-process transport:   {in_process:8.3f} s")
    print(f"full listing, loopback HTTP (uvicorn):{loopback:8.3f} s")
    print(f"ratio loopback / in-process:          {loopback / in_process:8.2f}")
    print(f"ratio loopback / json.dumps baseline: {loopback / dumps:8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    asyncio.run(main(options.servers, options.rounds))
