"""Faults on demand (errors, throttling, reset, lost, slow) and latency injection."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from ecs_notebook.simulator import FaultSpec, Simulator
from ecs_notebook.simulator.faults import FaultInjector

from .conftest import FLEET, HEALTHY, auth_for, key_body, reinstall_path

SPEC = "500=0.10,503=0.02,429=0.05,reset=0.02,lost=0.01,slow=0.01"


def test_parse_the_documented_spec() -> None:
    spec = FaultSpec.parse(SPEC)
    assert dict(spec.shares) == {
        "429": 0.05, "500": 0.10, "503": 0.02, "lost": 0.01, "reset": 0.02, "slow": 0.01,
    }  # fmt: skip
    assert FaultSpec.parse(str(spec)) == spec
    assert FaultSpec.parse("slow=0.5, slow_seconds=0.25").slow_seconds == 0.25
    assert not FaultSpec.parse("")
    assert not FaultSpec()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("500", "KIND=SHARE"),
        ("500=abc", "bad number"),
        ("404=0.1", "unknown fault kind"),
        ("boom=0.1", "unknown fault kind"),
        ("500=1.5", "between 0 and 1"),
        ("500=0.6,503=0.6", "more than 1"),
        ("500=0.1,500=0.2", "twice"),
        ("=0.1", "bad fault"),
        ("slow=0.1,slow_seconds=-1", "negative"),
    ],
)
def test_bad_specs_explain_themselves(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        FaultSpec.parse(text)


def test_draws_follow_the_shares_and_the_seed() -> None:
    spec = FaultSpec.parse(SPEC)
    draws = [FaultInjector(spec, seed=4).draw() for _ in range(1)]
    one, two = FaultInjector(spec, seed=4), FaultInjector(spec, seed=4)
    sequence = [one.draw() for _ in range(20_000)]
    assert sequence == [two.draw() for _ in range(20_000)]
    assert draws[0] == sequence[0]
    counts = Counter(sequence)
    for kind, share in spec.shares.items():
        assert abs(counts[kind] / 20_000 - share) < 0.01, kind


@pytest.fixture(params=["in-process", "loopback"])
async def faulty(request: pytest.FixtureRequest) -> Any:
    sim = Simulator(fleet=FLEET, job_seconds=5)
    if request.param == "in-process":
        async with httpx.AsyncClient(
            transport=sim.transport(), base_url=sim.endpoint, auth=auth_for(sim)
        ) as c:
            yield sim, c
    else:
        with sim.serve() as url:
            async with httpx.AsyncClient(base_url=url, auth=auth_for(sim), timeout=10) as c:
                yield sim, c


def accepted(sim: Simulator) -> int:
    count: int = sim.state()["servers"][HEALTHY]["reinstalls_accepted"]
    return count


async def test_lost_answer_is_processed(faulty: Any) -> None:
    sim, client = faulty
    sim.set_faults("lost=1")
    with pytest.raises(httpx.TransportError) as caught:
        await client.post(reinstall_path(sim, HEALTHY), json=key_body(sim))
    assert isinstance(caught.value, (httpx.RemoteProtocolError, httpx.ReadError))
    assert accepted(sim) == 1
    sim.set_faults(None)
    retry = await client.post(reinstall_path(sim, HEALTHY), json=key_body(sim))
    assert retry.status_code == 501 and retry.json()["error"]["code"] == "Ecs.0603"
    counts = sim.state()["requests"]["POST /v2/{project_id}/cloudservers/{server_id}/reinstallos"]
    assert counts == {"lost": 1, "501": 1}


async def test_reset_is_not_processed(faulty: Any) -> None:
    sim, client = faulty
    sim.set_faults("reset=1")
    with pytest.raises(httpx.TransportError):
        await client.post(reinstall_path(sim, HEALTHY), json=key_body(sim))
    assert accepted(sim) == 0
    sim.set_faults(None)
    assert (await client.post(reinstall_path(sim, HEALTHY), json=key_body(sim))).status_code == 200


@pytest.mark.parametrize(
    ("kind", "code"),
    [("500", "APIGW.0601"), ("503", "APIGW.0601"), ("502", "APIGW.0201"), ("429", "APIGW.0308")],
)
async def test_error_faults_answer_without_processing(faulty: Any, kind: str, code: str) -> None:
    sim, client = faulty
    sim.set_faults(f"{kind}=1")
    response = await client.post(reinstall_path(sim, HEALTHY), json=key_body(sim))
    assert response.status_code == int(kind)
    assert response.json()["error_code"] == code
    assert response.json()["request_id"] == response.headers["X-Request-Id"]
    assert accepted(sim) == 0


async def test_faults_spare_the_simulator_and_iam_paths(faulty: Any) -> None:
    sim, client = faulty
    sim.set_faults("500=1")
    assert (await client.get("/_simulator/state")).status_code == 200
    assert (await client.get("/v3/auth/projects")).status_code == 200
    assert (await client.get(f"/v1/{sim.project_id}/cloudservers/detail")).status_code == 500


async def test_slow_answers_after_processing(faulty: Any) -> None:
    sim, client = faulty
    sim.set_faults(FaultSpec({"slow": 1.0}, slow_seconds=5))
    with pytest.raises(httpx.ReadTimeout):
        await client.post(reinstall_path(sim, HEALTHY), json=key_body(sim), timeout=0.2)
    assert accepted(sim) == 1  # processed before the (late) answer
    sim.set_faults(FaultSpec({"slow": 1.0}, slow_seconds=0.01))
    response = await client.get(f"/v1/{sim.project_id}/cloudservers/{HEALTHY}")
    assert response.status_code == 200


async def test_mixed_faults_over_many_requests(faulty: Any) -> None:
    sim, client = faulty
    sim.set_faults("500=0.2,429=0.2,reset=0.1,lost=0.1")
    outcomes: Counter[str] = Counter()
    for _ in range(60):
        try:
            response = await client.get(
                f"/v1/{sim.project_id}/cloudservers/detail", params={"limit": 1}
            )
            outcomes[str(response.status_code)] += 1
        except httpx.TransportError:
            outcomes["dropped"] += 1
    counts = sim.state()["requests"]["GET /v1/{project_id}/cloudservers/detail"]
    assert outcomes["dropped"] == counts.get("reset", 0) + counts.get("lost", 0) > 0
    assert {"200", "500", "429"} <= set(outcomes)


async def test_latency_does_not_block_the_loop() -> None:
    sim = Simulator(fleet=FLEET, latency_ms=200, latency_jitter_ms=20)
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.endpoint, auth=auth_for(sim)
    ) as client:

        async def five() -> list[httpx.Response]:
            path = f"/v1/{sim.project_id}/cloudservers/detail"
            return list(await asyncio.gather(*(client.get(path) for _ in range(5))))

        task = asyncio.create_task(five())
        ticks = 0
        while not task.done():  # a blocked loop would finish the task before one more tick
            ticks += 1
            await asyncio.sleep(0.01)
        responses = await task
    assert all(r.status_code == 200 for r in responses)
    assert ticks >= 3
    with sim.serve() as url, httpx.Client(base_url=url, auth=auth_for(sim)) as sync_client:
        assert sync_client.get(f"/v1/{sim.project_id}/cloudservers/detail").status_code == 200  # noqa: ASYNC212 (the sync client, on purpose)


def test_sync_transport_honours_read_timeout_after_processing() -> None:
    sim = Simulator(fleet=FLEET, faults=FaultSpec({"slow": 1.0}, slow_seconds=5))
    with (
        httpx.Client(
            transport=sim.sync_transport(), base_url=sim.endpoint, auth=auth_for(sim)
        ) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.post(reinstall_path(sim, HEALTHY), json=key_body(sim), timeout=0.2)
    assert accepted(sim) == 1


def test_ecs_and_late_fault_kinds_parse() -> None:
    spec = FaultSpec.parse("Common.0024=0.05,Common.1503=0.05,late500=0.01,late504=0.01")
    assert spec.shares == {
        "Common.0024": 0.05,
        "Common.1503": 0.05,
        "late500": 0.01,
        "late504": 0.01,
    }
    assert FaultSpec.parse(str(spec)) == spec
    with pytest.raises(ValueError, match=r"Common\.0024"):
        FaultSpec.parse("Common.9999=0.1")
