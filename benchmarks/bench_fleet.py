"""Benchmarks of the fleet engine against the simulator over loopback HTTP (issue 4).

Each figure is printed next to a baseline measured in the same run:

1. submission: 1,000 servers at 50 ms latency, no rate limit: requests/s against the bound
   ``concurrency / latency``, and against the official SDK used as its users do (a loop);
2. rate-limited: 1,000 servers, the simulator limited to 20 requests/s: total time against
   ``N / R``, and the share of requests throttled;
3. polling: 1,000 jobs lasting 30 s +- 10 s: GETs per job and the delay between a job ending
   and the book showing it (p95), against a fixed 5 s poller on 1,000 more jobs at once;
4. event-loop lag while 10,000 jobs are polled at the API's pace (a 100 requests/s limit),
   against the idle loop's lag;
5. exactly once under the reliability mix (10 % 5xx, 5 % 429, 2 % resets, 1 % lost answers):
   servers reinstalled exactly once and twice out of 1,000, from the simulator's ground truth
   (goal >= 995 once, 0 twice).

    .venv/bin/python benchmarks/bench_fleet.py [--quick] [--only 1,2,3,4,5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Coroutine, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from _simproc import AK, PROJECT, SK, client, requests_by_status, simulator, state

from ecs_notebook._loop import shared_loop
from ecs_notebook.client import RetryPolicy
from ecs_notebook.fleet import FleetRun, PollSchedule, preflight
from ecs_notebook.model import ReinstallRequest
from ecs_notebook.model.servers import Server
from ecs_notebook.secrets import Secret

T = TypeVar("T")
POST = "POST /v2/{project_id}/cloudservers/{server_id}/reinstallos"
GET_JOB = "GET /v1/{project_id}/jobs/{job_id}"
REQUEST = ReinstallRequest(adminpass=Secret("Bench@mark123"), mode="withStopServer")
QUIET = PollSchedule(first=3600, learning_cap=3600, max_interval=3600)  # no polling


def tmp_journal() -> Path:
    return Path(tempfile.mkdtemp()) / "bench.jsonl"


def submit(
    url: str, n: int, *, concurrency: int, rate_limit: float | None = None
) -> tuple[FleetRun, float, int, list[str]]:
    """Plan ``n`` servers and submit them: the run, seconds taken, count and unused servers."""
    run = FleetRun(
        client(url, rate_limit=rate_limit), tmp_journal(), concurrency=concurrency, schedule=QUIET
    )
    servers = run.servers()
    plan = run.plan(REQUEST, servers=servers[:n])
    spare = preflight_ok(servers[n:])
    start = time.perf_counter()
    run.start(plan.confirm(plan.count), REQUEST)
    run.wait_submitted()
    elapsed = time.perf_counter() - start
    return run, elapsed, plan.count, spare


def preflight_ok(servers: list[Server]) -> list[str]:
    return [s.id for s in preflight(servers, REQUEST).targets]


def sdk_sequential(url: str, server_ids: list[str]) -> float:
    """Requests/s of the official SDK in a plain loop, as its users write it."""
    os.environ.setdefault("HOME", tempfile.mkdtemp())
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkecs.v2 import (
        EcsClient,
        ReinstallServerWithCloudInitOption,
        ReinstallServerWithCloudInitRequest,
        ReinstallServerWithCloudInitRequestBody,
    )

    sdk = (
        EcsClient.new_builder()
        .with_credentials(BasicCredentials(AK, SK, PROJECT))
        .with_endpoint(url)
        .with_http_config(HttpConfig.get_default_config())
        .build()
    )
    start = time.perf_counter()
    for sid in server_ids:
        body = ReinstallServerWithCloudInitRequestBody(
            os_reinstall=ReinstallServerWithCloudInitOption(
                adminpass="Bench@mark123", mode="withStopServer"
            )
        )
        sdk.reinstall_server_with_cloud_init(
            ReinstallServerWithCloudInitRequest(server_id=sid, body=body)
        )
    return len(server_ids) / (time.perf_counter() - start)


def bench_submission(n: int) -> None:
    latency = 0.050
    print(f"[1] submission of {n} servers at 50 ms latency, no rate limit")
    for concurrency in (10, 20, 50):
        args = ["--servers", str(n + 200), "--seed", "1", "--latency-ms", "50"]
        with simulator(*args, "--job-seconds", "600") as url:
            run, elapsed, count, spare = submit(url, n, concurrency=concurrency)
            run.close()
            sdk = sdk_sequential(url, spare[:40]) if concurrency == 50 else 0.0
        ours, bound = count / elapsed, concurrency / latency
        print(
            f"    concurrency {concurrency:2d}: {ours:6.1f} req/s   bound {bound:5.0f} req/s"
            f"   ratio {ours / bound:.2f} (goal >= 0.8)"
        )
    print(f"    official SDK, sequential loop: {sdk:5.1f} req/s   ours / SDK: {ours / sdk:.1f}x")


def bench_rate_limited(n: int, rate: float = 20.0) -> None:
    with simulator(
        "--servers", str(n + 200), "--seed", "2", "--rate-limit", str(rate), "--job-seconds", "600"
    ) as url:
        run, elapsed, count, _ = submit(url, n, concurrency=10, rate_limit=rate)
        truth = state(url)
        run.close()
    posts = requests_by_status(truth, POST)
    sent = sum(posts.values())
    throttled = posts.get("429", 0)
    ideal = count / rate
    print(f"[2] {count} servers, simulator limited to {rate:g} requests/s")
    print(
        f"    total {elapsed:6.1f} s   N/R {ideal:6.1f} s"
        f"   ratio {elapsed / ideal:.3f} (goal <= 1.1)"
    )
    print(
        f"    throttled {throttled} of {sent} POSTs = {throttled / max(sent, 1):.2%} (goal <= 2%)"
    )


async def naive_poll(url: str, job_ids: dict[str, str], interval: float) -> tuple[int, list[float]]:
    """Baseline: poll every job every ``interval`` s until done; GETs and end->seen delays."""
    c = client(url)
    gets = 0
    delays: list[float] = []
    pending = dict(job_ids)
    async with c:
        while pending:
            start = time.monotonic()
            jobs = await asyncio.gather(*(c.get_job(j) for j in pending.values()))
            gets += len(jobs)
            now = datetime.now(timezone.utc)
            for job in jobs:
                if job.finished and job.end_time is not None:
                    delays.append((now - job.end_time).total_seconds())
                    pending.pop(job.server_id or "", None)
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - start)))
    return gets, delays


async def gather(coros: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """``asyncio.gather`` as a coroutine (for ``BackgroundLoop.run``)."""
    return list(await asyncio.gather(*coros))


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else float("nan")


def bench_polling(n: int) -> None:
    with simulator(
        "--servers", str(2 * n + 400), "--seed", "3", "--job-seconds", "30", "--job-jitter", "0.333"
    ) as url:
        run = FleetRun(client(url), tmp_journal(), concurrency=50, poll_concurrency=50)
        servers = list(preflight(run.servers(), REQUEST).targets)
        ours_plan = run.plan(REQUEST, servers=servers[:n])
        # The baseline's jobs start at the same time, on the other servers.
        baseline_ids = [s.id for s in servers[n : 2 * n]]
        loop = shared_loop()
        base_client = client(url)
        run.start(ours_plan.confirm(ours_plan.count), REQUEST)
        base_jobs = dict(
            zip(
                baseline_ids,
                loop.run(gather(base_client.reinstall(s, REQUEST) for s in baseline_ids)),
                strict=True,
            )
        )
        loop.run(base_client.aclose())
        baseline = loop.submit(naive_poll(url, base_jobs, 5.0))
        run.wait()
        base_gets, base_delays = baseline.result()
        run.close()
    frame = run.book.snapshot()
    done = frame[frame["status"].isin(["SUCCESS", "FAIL"])]
    delays = ((done["last_polled"] - done["end_time"]).dt.total_seconds()).tolist()
    ours_gets = int(done["polls"].sum())
    print(f"[3] polling {len(done)} jobs of 30 s +- 10 s")
    print(
        f"    ours:  {ours_gets / len(done):.2f} GETs/job (goal <= 5)"
        f"   delay p50 {p(delays, 50):.2f} s  p95 {p(delays, 95):.2f} s (goal <= 5)"
    )
    print(
        f"    fixed 5 s poller: {base_gets / len(base_jobs):.2f} GETs/job"
        f"   delay p50 {p(base_delays, 50):.2f} s  p95 {p(base_delays, 95):.2f} s"
    )
    print(
        "    ratio GETs/job ours / fixed: "
        f"{ours_gets / len(done) / (base_gets / len(base_jobs)):.2f}"
    )


async def lag_probe(samples: list[float], stop: asyncio.Event, tick: float = 0.01) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(tick)
        samples.append(time.perf_counter() - start - tick)


def measure_lag(seconds: float) -> list[float]:
    loop = shared_loop()
    samples: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        await asyncio.wait(
            [
                asyncio.ensure_future(lag_probe(samples, stop)),
                asyncio.ensure_future(asyncio.sleep(seconds)),
            ],
            return_when=asyncio.FIRST_COMPLETED,
        )
        stop.set()

    loop.run(probe())
    return samples


def bench_lag(n: int, rate: float = 100.0) -> None:
    with simulator("--servers", str(n + 1000), "--seed", "4", "--job-seconds", "40") as url:
        idle = measure_lag(3.0)
        run = FleetRun(
            client(url, rate_limit=rate), tmp_journal(), concurrency=50, poll_concurrency=50
        )
        plan = run.plan(REQUEST)
        count = min(plan.count, n)
        plan = run.plan(REQUEST, servers=list(plan.targets[:count]))
        run.start(plan.confirm(plan.count), REQUEST)
        run.wait_submitted()
        busy = measure_lag(20.0)
        polls = run.poller.requests
        run.stop()
        run.close()
    print(
        f"[4] event-loop lag while {plan.count} jobs are polled at <= {rate:g} requests/s"
        f" ({polls} polls so far)"
    )
    print(
        f"    polling: p50 {p(busy, 50) * 1000:.1f} ms"
        f"  p99 {p(busy, 99) * 1000:.1f} ms (goal <= 50 ms)"
    )
    print(f"    idle loop: p50 {p(idle, 50) * 1000:.1f} ms  p99 {p(idle, 99) * 1000:.1f} ms")


RELIABILITY_MIX = "500=0.10,429=0.05,reset=0.02,lost=0.01"
#: Jobs of ~1.5 s: check an unanswered POST's server every 0.3 s, settle window 1.5 s.
RELIABLE = PollSchedule(
    first=0.5,
    near_interval=0.4,
    learning_cap=1.0,
    max_interval=2.0,
    unknown_interval=0.3,
    unknown_grace=1.5,
)


def clean_fleet(n: int) -> Path:
    """A fleet file of ``n`` servers that can all be reinstalled."""
    servers = [
        {
            "id": f"00000000-0000-4000-8000-{i:012d}",
            "name": f"node-{i:04d}",
            "status": "ACTIVE",
            "locked": False,
            "system_disk": True,
            "cloud_init": True,
            "image_name": "Ubuntu 22.04 server 64bit",
            "os_type": "Linux",
        }
        for i in range(n)
    ]
    path = Path(tempfile.mkdtemp()) / "fleet.json"
    path.write_text(json.dumps({"servers": servers}))
    return path


def bench_reliability(n: int) -> None:
    fleet = clean_fleet(n)
    args = ["--fleet", str(fleet), "--job-seconds", "1.5", "--faults", RELIABILITY_MIX]
    with simulator(*args) as url:
        retry = RetryPolicy(attempts=8, base_delay=0.02, max_delay=0.3)
        run = FleetRun(
            client(url, retry=retry),
            tmp_journal(),
            concurrency=20,
            poll_concurrency=40,
            schedule=RELIABLE,
        )
        plan = run.plan(REQUEST)
        start = time.perf_counter()
        run.start(plan.confirm(plan.count), REQUEST)
        summary = run.wait()
        elapsed = time.perf_counter() - start
        run.close()
        truth = state(url)
    accepted = [s["reinstalls_accepted"] for s in truth["servers"].values()]
    once = sum(a == 1 for a in accepted)
    twice = sum(a > 1 for a in accepted)
    posts = sum(requests_by_status(truth, POST).values())
    print(f"[5] {n} servers under the reliability mix {RELIABILITY_MIX}")
    print(
        f"    reinstalled exactly once: {once}/{n} (goal >= {n - n // 200})"
        f"   twice: {twice} (goal 0)   in {elapsed:.1f} s, {posts} POSTs"
    )
    reasons = summary.not_reinstalled.groupby("status").size()
    for status, count in reasons.items():
        print(f"    not reinstalled, {status}: {count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller fleets (a smoke run)")
    parser.add_argument("--only", default="1,2,3,4,5", help="which benchmarks, e.g. 1,3")
    args = parser.parse_args()
    which = {int(x) for x in args.only.split(",")}
    scale = 5 if args.quick else 1
    if 1 in which:
        bench_submission(1000 // scale)
    if 2 in which:
        bench_rate_limited(1000 // scale)
    if 3 in which:
        bench_polling(1000 // scale)
    if 4 in which:
        bench_lag(10000 // scale)
    if 5 in which:
        bench_reliability(1000 // scale)


if __name__ == "__main__":
    main()
