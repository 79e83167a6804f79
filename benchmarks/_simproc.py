"""Run the simulator CLI in a subprocess (its own core and GIL), for benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from ecs_notebook.auth import AkSkAuth, AkSkCredentials
from ecs_notebook.client import EcsClient, RateLimiter, RetryPolicy
from ecs_notebook.secrets import Secret

AK = "BENCHMARKAK000000001"
SK = "benchmarkSecretKeyDoNotUse0123456789abcd"
PROJECT = "0123456789abcdef0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def simulator(*args: str) -> Iterator[str]:
    """Start ``ecs-notebook simulator`` with ``args``; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "HUAWEICLOUD_SDK_AK": AK,
        "HUAWEICLOUD_SDK_SK": SK,
        "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecs_notebook.simulator", "--port", str(port), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/_simulator/state", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the simulator did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def client(url: str, *, rate_limit: float | None = None, **options: Any) -> EcsClient:
    """Our client for the benchmark simulator."""
    creds = AkSkCredentials(AK, Secret(SK), project_id=PROJECT)
    options.setdefault("retry", RetryPolicy(attempts=8, base_delay=0.05, max_delay=2.0))
    return EcsClient(
        endpoint=url,
        auth=AkSkAuth(creds),
        project_id=PROJECT,
        rate_limiter=RateLimiter(rate_limit) if rate_limit else None,
        **options,
    )


def state(url: str) -> dict[str, Any]:
    """The simulator's ground truth."""
    return dict(httpx.get(f"{url}/_simulator/state", timeout=60).json())


def requests_by_status(truth: dict[str, Any], path: str) -> dict[str, int]:
    """Request counts by HTTP status for one path template."""
    return {k: int(v) for k, v in truth["requests"].get(path, {}).items()}
