"""The simulator over loopback HTTP with the environment a CLI process needs, and its truth."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

from ecs_notebook.simulator import Simulator

CLI = [sys.executable, "-m", "ecs_notebook.cli"]
POST = "POST /v2/{project_id}/cloudservers/{server_id}/reinstallos"

#: The simulator, its base URL, and the environment with its credentials.
Served = tuple[Simulator, str, dict[str, str]]


def reinstall_command(
    base_url: str, journal: Path, expect: int, *extra: str, poll_interval: float = 0.1
) -> list[str]:
    """``ecs-notebook reinstall`` of every server of a served simulator, two POSTs at a time
    (login and rollout flags in ``extra``)."""
    return [
        *CLI,
        "reinstall",
        "--name-regex",
        ".",
        "--mode",
        "withStopServer",
        "--expect",
        str(expect),
        "--journal",
        str(journal),
        "--concurrency",
        "2",
        "--endpoint",
        base_url,
        "--poll-interval",
        str(poll_interval),
        *extra,
    ]


def serve(servers: int, *, seed: int, job_seconds: float, latency_ms: float) -> Iterator[Served]:
    """A fleet where every server can be reinstalled, served until the generator closes."""
    sim = Simulator(servers=servers, seed=seed, job_seconds=job_seconds, latency_ms=latency_ms)
    for server in sim.model.servers.values():
        server.locked, server.system_disk, server.cloud_init = False, True, True
    env = {
        **os.environ,
        "HUAWEICLOUD_SDK_AK": sim.access_key,
        "HUAWEICLOUD_SDK_SK": sim.secret_key.reveal(),
        "HUAWEICLOUD_SDK_PROJECT_ID": sim.project_id,
    }
    with sim.serve() as base_url:
        yield sim, base_url, env


def accepted(sim: Simulator) -> dict[str, int]:
    """Reinstalls the simulator accepted, per server (the ground truth)."""
    return {sid: s["reinstalls_accepted"] for sid, s in sim.state()["servers"].items()}


def posts(sim: Simulator) -> int:
    """Reinstall POSTs that reached the simulator, whatever their answer."""
    return sum(sim.state()["requests"].get(POST, {}).values())
