"""Our client against the simulator, in process and over real loopback HTTP: the same
scenarios, the same typed results and errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from support.sim import keypair_request

from ecs_notebook.auth import AkSkAuth, AkSkCredentials, IamPasswordCredentials, TokenAuth
from ecs_notebook.client import EcsClient, RateLimiter, RetryPolicy
from ecs_notebook.errors import (
    AuthenticationError,
    NotFoundError,
    OutcomeUnknownError,
    RequestRejectedError,
    ServerBusyError,
    ThrottledError,
)
from ecs_notebook.model import ReinstallRequest
from ecs_notebook.secrets import Secret
from ecs_notebook.simulator import Simulator

NO_WAIT = RetryPolicy(attempts=1)


@contextmanager
def endpoint_for(sim: Simulator, mode: str) -> Iterator[str | None]:
    if mode == "http":
        with sim.serve() as url:
            yield url
    else:
        yield None


def make_client(sim: Simulator, url: str | None, **options: Any) -> EcsClient:
    creds = options.pop("credentials", None) or AkSkCredentials(
        sim.access_key, sim.secret_key, project_id=sim.project_id
    )
    auth = options.pop("auth", None) or AkSkAuth(creds)
    return EcsClient(
        endpoint=url or sim.endpoint,
        auth=auth,
        project_id=options.pop("project_id", sim.project_id),
        region=sim.region,
        iam_endpoint=url or sim.endpoint,
        transport=None if url else sim.transport(),
        **options,
    )


@pytest.fixture(params=["inprocess", "http"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def env(mode: str) -> AsyncIterator[tuple[Simulator, EcsClient]]:
    sim = Simulator(servers=30, seed=21, job_seconds=0.6)
    with endpoint_for(sim, mode) as url:
        client = make_client(sim, url, retry=NO_WAIT)
        yield sim, client
        await client.aclose()


async def test_reinstall_and_poll_to_success(env: tuple[Simulator, EcsClient]) -> None:
    sim, client = env
    server_id = next(s.id for s in await client.list_servers(status="SHUTOFF") if not s.locked)
    job_id = await client.reinstall(server_id, keypair_request(sim))
    during = await client.get_server(server_id)
    assert during.rebuilding
    job = await client.wait_for_job(job_id, interval=0.1, timeout=10)
    assert job.succeeded and job.server_id == server_id and job.end_time is not None
    assert not (await client.get_server(server_id)).rebuilding
    assert sim.state()["servers"][server_id]["reinstalls_completed"] == 1


async def test_listing_pages_through_everything(env: tuple[Simulator, EcsClient]) -> None:
    _, client = env
    everything = await client.list_servers()
    paged = [s async for s in client.iter_servers(page_size=7)]
    assert len(everything) == 30
    assert [s.id for s in paged] == [s.id for s in everything]
    webs = await client.list_servers(name="web")
    assert webs and all("web" in s.name for s in webs)


async def test_keypairs(env: tuple[Simulator, EcsClient]) -> None:
    sim, client = env
    names = [k.name for k in await client.list_keypairs()]
    assert sim.keypair_name in names
    assert (await client.get_keypair(sim.keypair_name)).user_id == sim.user_id


async def test_every_refusal_is_typed(env: tuple[Simulator, EcsClient]) -> None:
    sim, client = env
    ids = [s.id for s in await client.list_servers() if s.status in ("ACTIVE", "SHUTOFF")]
    locked, diskless, busy, stranger = ids[:4]
    sim.model.servers[locked].locked = True
    sim.model.servers[diskless].system_disk = False
    request = keypair_request(sim)
    cases: list[tuple[str, ReinstallRequest, type[Exception], str]] = [
        (locked, request, RequestRejectedError, "Ecs.0605"),
        (diskless, request, RequestRejectedError, "Ecs.0105"),
        (stranger, request.with_changes(keyname="no-such-key"), RequestRejectedError, "Ecs.0314"),
        (stranger, request.with_changes(userid="0" * 32), RequestRejectedError, "Ecs.0314"),
        ("00000000-0000-4000-8000-000000000000", request, NotFoundError, "Ecs.0114"),
    ]
    for server_id, req, kind, code in cases:
        with pytest.raises(kind) as caught:
            await client.reinstall(server_id, req)
        assert caught.value.code == code, (server_id, code)
        assert caught.value.request_id
    await client.reinstall(busy, request)
    with pytest.raises(ServerBusyError) as caught_busy:
        await client.reinstall(busy, request)
    assert caught_busy.value.code == "Ecs.0603"
    with pytest.raises(NotFoundError) as caught_job:
        await client.get_job("ff80808288d41e1b018990260955686a")
    assert caught_job.value.code == "Common.0011"
    assert sim.state()["servers"][busy]["reinstalls_accepted"] == 1


async def test_byol_where_unsupported(mode: str) -> None:
    sim = Simulator(servers=3, seed=22, byol_supported=False)
    with endpoint_for(sim, mode) as url:
        async with make_client(sim, url, retry=NO_WAIT) as client:
            with pytest.raises(RequestRejectedError) as caught:
                await client.reinstall(
                    sim.server_ids()[0], keypair_request(sim).with_changes(byol=True)
                )
    assert caught.value.code == "Ecs.0090"


async def test_wrong_secret_key_is_refused(mode: str) -> None:
    sim = Simulator(servers=2, seed=23)
    bad = AkSkCredentials(sim.access_key, Secret("x" * 40), project_id=sim.project_id)
    with endpoint_for(sim, mode) as url:
        async with make_client(sim, url, credentials=bad, retry=NO_WAIT) as client:
            with pytest.raises(AuthenticationError) as caught:
                await client.list_servers()
    assert caught.value.code == "APIGW.0301"
    assert "x" * 40 not in str(caught.value)


async def test_token_auth_and_project_discovery(mode: str) -> None:
    sim = Simulator(servers=4, seed=24, job_seconds=0.3)
    with endpoint_for(sim, mode) as url:
        creds = IamPasswordCredentials(sim.iam_user, sim.iam_password, sim.iam_domain)
        auth = TokenAuth(creds, iam_endpoint=url or sim.endpoint, region=sim.region)
        async with make_client(sim, url, auth=auth, project_id=None, retry=NO_WAIT) as client:
            assert await client.project_id() == sim.project_id
            job_id = await client.reinstall(sim.server_ids()[0], keypair_request(sim))
            assert (await client.wait_for_job(job_id, interval=0.1, timeout=10)).succeeded
        no_project = AkSkCredentials(sim.access_key, sim.secret_key)
        async with make_client(sim, url, credentials=no_project, project_id=None) as client:
            assert await client.project_id() == sim.project_id


async def test_lost_answer_raises_outcome_unknown_and_the_server_tells(mode: str) -> None:
    sim = Simulator(servers=3, seed=25, job_seconds=2.0)
    server_id = sim.server_ids()[0]
    with endpoint_for(sim, mode) as url:
        async with make_client(sim, url, retry=RetryPolicy(attempts=3, base_delay=0.01)) as client:
            sim.set_faults("lost=1.0")
            with pytest.raises(OutcomeUnknownError) as caught:
                await client.reinstall(server_id, keypair_request(sim))
            sim.set_faults(None)
            assert (await client.get_server(server_id)).task_state or (
                await client.get_server(server_id)
            ).rebuilding
    assert caught.value.server_id == server_id
    assert sim.state()["servers"][server_id]["reinstalls_accepted"] == 1  # sent exactly once


async def test_rate_limiter_keeps_under_the_api_limit(mode: str) -> None:
    sim = Simulator(servers=5, seed=26, rate_limit=10)
    with endpoint_for(sim, mode) as url:
        async with make_client(sim, url, retry=RetryPolicy(attempts=1)) as client:
            results = await asyncio.gather(
                *(client.get_server(sim.server_ids()[0]) for _ in range(30)), return_exceptions=True
            )
        throttled_without = sum(isinstance(r, ThrottledError) for r in results)
        limiter = RateLimiter(10)
        async with make_client(
            sim, url, retry=RetryPolicy(attempts=3, base_delay=0.05), rate_limiter=limiter
        ) as client:
            results = await asyncio.gather(
                *(client.get_server(sim.server_ids()[0]) for _ in range(30)), return_exceptions=True
            )
    assert throttled_without > 5
    assert not any(isinstance(r, Exception) for r in results)
    assert limiter.throttled_count <= 2
