"""The health check after a job's SUCCESS, against the simulator over its in-process transport.

Time is the simulator's manual clock: the check's ``sleep`` moves it, so nothing sleeps.
Servers are changed through the simulator's own model objects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from support.sim import client_for, keypair_request

from ecs_notebook.client import EcsClient, RetryPolicy
from ecs_notebook.fleet.health import Health, check_health, expected_status
from ecs_notebook.fleet.rollout import Rollout
from ecs_notebook.fleet.rollout_state import RolloutState
from ecs_notebook.model.servers import Server
from ecs_notebook.simulator import ManualClock, Simulator

JOB_SECONDS = 40.0


class Watched:
    """The client, recording every status and task state the check read."""

    def __init__(self, client: EcsClient) -> None:
        self.client = client
        self.seen: list[tuple[str, str | None]] = []

    async def get_server(self, server_id: str) -> Server:
        server = await self.client.get_server(server_id)
        self.seen.append((server.status, server.task_state))
        return server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    return Simulator(servers=4, seed=11, job_seconds=JOB_SECONDS, job_jitter=0.0, clock=clock)


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[EcsClient]:
    async with client_for(sim, retry=RetryPolicy(attempts=1)) as ecs:
        yield ecs


def ticking(clock: ManualClock, each: Callable[[int], None] | None = None) -> Callable[..., object]:
    """A ``sleep`` that moves the simulator's clock (and calls ``each(n)`` after the n-th)."""
    calls = 0

    async def sleep(seconds: float) -> None:
        nonlocal calls
        calls += 1
        clock.advance(seconds)
        if each is not None:
            each(calls)

    return sleep


async def check(
    client: object, server_id: str, expected: str, clock: ManualClock, **options: object
) -> Health:
    options.setdefault("sleep", ticking(clock))
    return await check_health(
        client,  # type: ignore[arg-type]
        server_id,
        expected,
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


async def test_a_reinstalled_running_server_is_healthy_once_running_again(
    sim: Simulator, client: EcsClient, clock: ManualClock
) -> None:
    sid = sim.server_ids()[0]
    assert sim.model.servers[sid].status == "ACTIVE"
    job_id = await client.reinstall(sid, keypair_request(sim))  # withStopServer
    watched = Watched(client)
    health = await check(watched, sid, "ACTIVE", clock, interval=3.0, timeout=300)
    assert health.healthy and str(health) == "healthy"
    assert (health.status, health.task_state) == ("ACTIVE", None)
    # it waited through the reinstall: powering off, rebuilding, powering on, running
    tasks = [task for _, task in watched.seen]
    assert tasks[0] == "powering-off" and "rebuilding" in tasks and "powering-on" in tasks
    assert watched.seen[-1] == ("ACTIVE", None) and ("REBUILD", "rebuilding") in watched.seen
    assert JOB_SECONDS <= health.waited < JOB_SECONDS + 3.0
    assert (await client.get_job(job_id)).status == "SUCCESS"


async def test_a_stopped_server_is_healthy_stopped(
    sim: Simulator, client: EcsClient, clock: ManualClock
) -> None:
    sid = sim.server_ids()[1]
    sim.model.servers[sid].status = "SHUTOFF"
    request = keypair_request(sim)
    await client.reinstall(sid, request)
    expected = expected_status("SHUTOFF", request.mode)
    assert expected == "SHUTOFF"
    health = await check(client, sid, expected, clock, interval=5.0, timeout=300)
    assert health.healthy and health.status == "SHUTOFF"


async def test_the_wrong_status_at_the_deadline_is_a_timeout_in_that_status(
    sim: Simulator, client: EcsClient, clock: ManualClock
) -> None:
    sid = sim.server_ids()[1]
    sim.model.servers[sid].status = "SHUTOFF"  # never started again
    health = await check(client, sid, "ACTIVE", clock, interval=7.0, timeout=120)
    assert not health.healthy and health.status == "SHUTOFF"
    assert health.seen == "timeout in status SHUTOFF after 120 s (expected ACTIVE)"
    assert health.waited == 120 and health.reads == 19  # at 0, 7, ..., 119, 120


async def test_a_server_in_error_after_success_is_unhealthy_at_once(
    sim: Simulator, client: EcsClient, clock: ManualClock
) -> None:
    sid = sim.server_ids()[2]
    job_id = await client.reinstall(sid, keypair_request(sim))
    clock.advance(JOB_SECONDS)
    assert (await client.get_job(job_id)).status == "SUCCESS"
    assert (await client.get_server(sid)).status == "ACTIVE"
    with sim.model.lock:
        sim.model.servers[sid].status = "ERROR"  # what unhealthy_after_reinstall does
    health = await check(client, sid, "ACTIVE", clock, interval=5.0, timeout=300)
    assert not health.healthy and health.seen == "status ERROR" and health.reads == 1
    assert str(health) == "unhealthy: status ERROR"


async def test_a_server_stuck_in_a_task_is_unhealthy_with_the_task(clock: ManualClock) -> None:
    slow = Simulator(servers=2, seed=3, job_seconds=3600, job_jitter=0.0, clock=clock)
    async with client_for(slow) as client:
        sid = slow.server_ids()[0]
        await client.reinstall(sid, keypair_request(slow))
        clock.advance(600)  # into the rebuild (540 s to 1,620 s): it outlasts the timeout
        health = await check(client, sid, "ACTIVE", clock, interval=10.0, timeout=120)
    assert not health.healthy and (health.status, health.task_state) == ("REBUILD", "rebuilding")
    assert health.seen == "stuck in task rebuilding (status REBUILD) after 120 s"


async def test_a_deleted_server_is_unhealthy(
    sim: Simulator, client: EcsClient, clock: ManualClock
) -> None:
    sid = sim.server_ids()[3]
    with sim.model.lock:
        del sim.model.servers[sid]
    health = await check(client, sid, "ACTIVE", clock, interval=5.0, timeout=300)
    assert not health.healthy and health.seen == "the server no longer exists"


async def test_a_server_that_cannot_be_read_is_tried_again_until_the_deadline(
    sim: Simulator, client: EcsClient, clock: ManualClock
) -> None:
    sid = sim.server_ids()[0]
    sim.set_faults("500=1.0")
    health = await check(client, sid, "ACTIVE", clock, interval=10.0, timeout=60)
    assert not health.healthy and health.reads == 7 and health.status is None
    assert health.seen.startswith("could not be read after 60 s: HTTP 500")

    def recover(calls: int) -> None:
        if calls == 2:
            sim.set_faults(None)

    sim.set_faults("500=1.0")
    health = await check(
        client, sid, "ACTIVE", clock, interval=10.0, timeout=60, sleep=ticking(clock, recover)
    )
    assert health.healthy and health.reads == 3  # two failed reads did not make it unhealthy


@pytest.mark.parametrize(
    ("before", "mode", "expected"),
    [
        ("ACTIVE", "withStopServer", "ACTIVE"),
        ("ACTIVE", None, "ACTIVE"),
        ("SHUTOFF", None, "SHUTOFF"),
        ("SHUTOFF", "withStopServer", "SHUTOFF"),
        (None, "withStopServer", "ACTIVE"),
        (None, None, "SHUTOFF"),
    ],
)
def test_the_status_a_reinstall_should_leave(
    before: str | None, mode: str | None, expected: str
) -> None:
    assert expected_status(before, mode) == expected


async def test_nonsense_timing_is_refused(client: EcsClient, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="interval"):
        await check(client, "x", "ACTIVE", clock, interval=0)


async def test_an_unhealthy_canary_halts_the_rollout_after_one_reinstall(
    sim: Simulator, client: EcsClient, clock: ManualClock
) -> None:
    """The pieces as the engine will join them: waves gate the POSTs, the verdict halts."""
    servers = await client.list_servers()
    state = RolloutState.for_plan(Rollout(waves=[1, "50%"]), servers)
    request = keypair_request(sim)
    before = {s.id: s.status for s in servers}
    state.start_wave()
    for sid in state.to_send():
        state.mark_sent(sid)
        await client.reinstall(sid, request)
    (canary,) = state.waves[0]
    clock.advance(JOB_SECONDS)
    assert (await client.get_server(canary)).status == "ACTIVE"  # the job ended SUCCESS
    with sim.model.lock:
        sim.model.servers[canary].status = "ERROR"  # then the server broke
    health = await check(
        client, canary, expected_status(before[canary], request.mode), clock, interval=5.0
    )
    records = state.health(canary, health.healthy, health.seen)
    assert [r["t"] for r in records] == ["health", "halt"] and state.step == "halted"
    assert not any(state.may_send(sid) for sid in state.order)
    accepted = {sid: s["reinstalls_accepted"] for sid, s in sim.state()["servers"].items()}
    assert accepted[canary] == 1 and sum(accepted.values()) == 1
    assert set(state.held) == set(accepted) - {canary}
