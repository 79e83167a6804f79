"""Reinstall, jobs and every documented refusal, in process and over loopback HTTP."""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Any

import httpx
import pytest

from ecs_notebook.simulator import ManualClock, Simulator

from .conftest import (
    FLEET,
    GOOD_PASSWORD,
    HEALTHY,
    KMS_KEY,
    LOCKED,
    NO_CLOUD_INIT,
    NO_DISK,
    OTHER_USER,
    STOPPED,
    UNKNOWN_SERVER,
    WINDOWS,
    auth_for,
    body,
    key_body,
    reinstall_path,
)

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def reinstall(
    client: httpx.AsyncClient, sim: Simulator, server_id: str, payload: Any
) -> httpx.Response:
    return await client.post(reinstall_path(sim, server_id), json=payload)


async def server(client: httpx.AsyncClient, sim: Simulator, server_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/{sim.project_id}/cloudservers/{server_id}")
    assert response.status_code == 200
    detail: dict[str, Any] = response.json()["server"]
    return detail


async def job(client: httpx.AsyncClient, sim: Simulator, job_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/{sim.project_id}/jobs/{job_id}")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def ecs_error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_reinstall_with_stop_walks_the_documented_states(
    client: httpx.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    response = await reinstall(client, sim, HEALTHY, key_body(sim, mode="withStopServer"))
    assert response.status_code == 200
    assert response.headers["X-Request-Id"]
    job_id = response.json()["job_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", job_id)

    seen = []
    for _ in range(11):
        data, detail = await job(client, sim, job_id), await server(client, sim, HEALTHY)
        seen.append((data["status"], detail["status"], detail["OS-EXT-STS:task_state"]))
        clock.advance(1.0)
    assert seen[0] == ("INIT", "ACTIVE", "powering-off")
    assert ("RUNNING", "REBUILD", "rebuilding") in seen
    assert ("RUNNING", "REBUILD", "rebuild_block_device_mapping") in seen
    assert ("RUNNING", "REBUILD", "rebuild_spawning") in seen
    assert ("RUNNING", "SHUTOFF", "powering-on") in seen
    assert seen[-1] == ("SUCCESS", "ACTIVE", None)

    final = await job(client, sim, job_id)
    assert final["job_type"] == "reinstallOS"
    assert ISO_MS.match(final["begin_time"]) and ISO_MS.match(final["end_time"])
    assert final["error_code"] is None and final["fail_reason"] is None
    assert final["entities"]["server_id"] == HEALTHY
    truth = sim.state()["servers"][HEALTHY]
    assert (truth["reinstalls_accepted"], truth["reinstalls_completed"]) == (1, 1)
    assert (await server(client, sim, HEALTHY))["key_name"] == sim.keypair_name


async def test_stopped_server_stays_stopped(
    client: httpx.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    response = await reinstall(client, sim, STOPPED, body(adminpass=GOOD_PASSWORD))
    assert response.status_code == 200
    clock.advance(5)
    detail = await server(client, sim, STOPPED)
    assert (detail["status"], detail["OS-EXT-STS:vm_state"]) == ("REBUILD", "stopped")
    clock.advance(5)
    assert (await server(client, sim, STOPPED))["status"] == "SHUTOFF"


async def test_running_server_without_mode_is_refused_with_0100(
    client: httpx.AsyncClient, sim: Simulator
) -> None:
    response = await reinstall(client, sim, HEALTHY, body(adminpass=GOOD_PASSWORD))
    assert ecs_error(response) == (400, "Ecs.0100")
    assert "withStopServer" in response.json()["error"]["message"]
    assert sim.state()["jobs"] == {}


async def test_lenient_region_rebuilds_a_running_server_in_place(clock: ManualClock) -> None:
    sim = Simulator(fleet={**FLEET, "lenient_mode": True}, clock=clock, job_seconds=10)
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.endpoint, auth=auth_for(sim)
    ) as client:
        response = await reinstall(client, sim, HEALTHY, body(adminpass=GOOD_PASSWORD))
        assert response.status_code == 200
        detail = await server(client, sim, HEALTHY)
        assert (detail["status"], detail["OS-EXT-STS:vm_state"]) == ("REBUILD", "active")
        clock.advance(15)
        assert (await server(client, sim, HEALTHY))["status"] == "ACTIVE"


async def test_busy_server_is_refused_with_0603(
    client: httpx.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    assert (await reinstall(client, sim, HEALTHY, key_body(sim))).status_code == 200
    second = await reinstall(client, sim, HEALTHY, key_body(sim))
    assert ecs_error(second) == (501, "Ecs.0603")
    clock.advance(10)
    assert (await reinstall(client, sim, HEALTHY, key_body(sim))).status_code == 200
    assert sim.state()["servers"][HEALTHY]["reinstalls_accepted"] == 2


async def test_image_without_cloud_init_is_accepted_then_fails(
    client: httpx.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    response = await reinstall(client, sim, NO_CLOUD_INIT, key_body(sim, mode="withStopServer"))
    assert response.status_code == 200
    clock.advance(10)
    data = await job(client, sim, response.json()["job_id"])
    assert data["status"] == "FAIL"
    assert data["error_code"] == "Ecs.0007"
    assert "Cloud-Init" in data["fail_reason"]
    truth = sim.state()["servers"][NO_CLOUD_INIT]
    assert (
        truth["reinstalls_accepted"],
        truth["reinstalls_completed"],
        truth["reinstalls_failed"],
    ) == (1, 0, 1)
    assert (await server(client, sim, NO_CLOUD_INIT))["status"] == "SHUTOFF"


BIG = base64.b64encode(b"#cloud-config\n" + b"x" * (32 * 1024)).decode()
REFUSALS = [
    pytest.param(LOCKED, body(adminpass=GOOD_PASSWORD), 400, "Ecs.0605", id="locked"),
    pytest.param(NO_DISK, body(adminpass=GOOD_PASSWORD), 400, "Ecs.0105", id="no-system-disk"),
    pytest.param(
        STOPPED, body(keyname="KeyPair-nope", userid=OTHER_USER), 400, "Ecs.0314", id="unknown-key"
    ),
    pytest.param(
        STOPPED, body(keyname="KeyPair-other", userid="f" * 32), 400, "Ecs.0314", id="foreign-key"
    ),
    pytest.param(
        STOPPED, body(keyname="team key", userid=OTHER_USER), 400, "Ecs.0314", id="spaced-key"
    ),
    pytest.param(HEALTHY, body(adminpass=GOOD_PASSWORD), 400, "Ecs.0100", id="running-no-mode"),
    pytest.param(STOPPED, body(adminpass=GOOD_PASSWORD, mode=""), 400, "Ecs.0005", id="empty-mode"),
    pytest.param(
        STOPPED,
        body(
            adminpass=GOOD_PASSWORD,
            metadata={"__system__encrypted": "1", "__system__cmkid": "d" * 36},
        ),
        400,
        "Ecs.0912",
        id="unknown-kms-key",
    ),
    pytest.param(
        STOPPED,
        body(adminpass=GOOD_PASSWORD, metadata={"__system__encrypted": "1"}),
        400,
        "Ecs.0005",
        id="encrypted-without-cmkid",
    ),
    pytest.param(HEALTHY, body(adminpass="short"), 400, "Ecs.0011", id="password-short"),
    pytest.param(
        HEALTHY, body(adminpass="alllowercaseletters"), 400, "Ecs.0011", id="password-classes"
    ),
    pytest.param(
        WINDOWS, body(adminpass="Administrator1!"), 400, "Ecs.0011", id="password-windows-user"
    ),
    pytest.param(HEALTHY, {"os-reinstall": {}, "extra": 1}, 400, "Ecs.0005", id="empty-option"),
    pytest.param(HEALTHY, {"os_reinstall": {}}, 400, "Ecs.0005", id="no-os-reinstall"),
    pytest.param(
        HEALTHY,
        body(adminpass=GOOD_PASSWORD, keyname="KeyPair-demo", userid=OTHER_USER),
        400,
        "Ecs.0005",
        id="pass-and-key",
    ),
    pytest.param(HEALTHY, body(keyname="KeyPair-demo"), 400, "Ecs.0005", id="key-without-userid"),
    pytest.param(HEALTHY, body(mode="withStopServer"), 400, "Ecs.0005", id="nothing-to-inject"),
    pytest.param(
        HEALTHY, body(adminpass=GOOD_PASSWORD, mode="stop"), 400, "Ecs.0005", id="bad-mode"
    ),
    pytest.param(
        HEALTHY,
        body(adminpass=GOOD_PASSWORD, metadata={"BYOL": "false"}),
        400,
        "Ecs.0005",
        id="byol-false",
    ),
    pytest.param(
        HEALTHY,
        body(
            adminpass=GOOD_PASSWORD,
            metadata={"__system__encrypted": "1", "__system__cmkid": "short"},
        ),
        400,
        "Ecs.0005",
        id="cmkid-length",
    ),
    pytest.param(HEALTHY, body(metadata={"user_data": BIG}), 400, "Ecs.0005", id="user-data-32k"),
    pytest.param(
        HEALTHY, body(metadata={"user_data": "not base64!"}), 400, "Ecs.0005", id="user-data-b64"
    ),
    pytest.param(HEALTHY, body(adminpass=["Abcd@1234"]), 400, "Ecs.0005", id="wrong-type"),
    pytest.param(HEALTHY, body(adminpass=12345678), 400, "Ecs.0011", id="number-as-password"),
    pytest.param(HEALTHY, ["os-reinstall"], 400, "Ecs.0005", id="not-an-object"),
    pytest.param(
        UNKNOWN_SERVER, body(adminpass=GOOD_PASSWORD), 404, "Ecs.0114", id="unknown-server"
    ),
]


@pytest.mark.parametrize(("server_id", "payload", "status", "code"), REFUSALS)
async def test_documented_refusals(
    client: httpx.AsyncClient, sim: Simulator, server_id: str, payload: Any, status: int, code: str
) -> None:
    response = await reinstall(client, sim, server_id, payload)
    assert ecs_error(response) == (status, code)
    assert response.json()["error"]["message"]
    assert "Abcd" not in response.text
    assert sim.state()["jobs"] == {}


async def test_malformed_json_is_0005(client: httpx.AsyncClient, sim: Simulator) -> None:
    response = await client.post(
        reinstall_path(sim, HEALTHY),
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert ecs_error(response) == (400, "Ecs.0005")


async def test_user_data_at_the_limit_is_accepted(
    client: httpx.AsyncClient, sim: Simulator
) -> None:
    exact = base64.b64encode(b"x" * (32 * 1024)).decode()
    assert (
        await reinstall(client, sim, STOPPED, body(metadata={"user_data": exact}))
    ).status_code == 200


async def test_encryption_with_cmk_and_byol_accepted(
    client: httpx.AsyncClient, sim: Simulator
) -> None:
    meta = {"__system__encrypted": "1", "__system__cmkid": KMS_KEY, "BYOL": "true"}
    assert (await reinstall(client, sim, HEALTHY, key_body(sim, metadata=meta))).status_code == 200


async def test_byol_refused_where_unsupported(clock: ManualClock) -> None:
    sim = Simulator(fleet=FLEET, byol_supported=False, clock=clock)
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.endpoint, auth=auth_for(sim)
    ) as client:
        response = await reinstall(client, sim, HEALTHY, key_body(sim, metadata={"BYOL": "true"}))
    assert ecs_error(response) == (400, "Ecs.0090")


async def test_lenient_mode_switch_wins_over_the_fleet(clock: ManualClock) -> None:
    lenient = {**FLEET, "lenient_mode": True}
    assert Simulator(fleet=lenient, clock=clock).model.lenient_mode
    assert not Simulator(fleet=lenient, clock=clock, lenient_mode=False).model.lenient_mode
    assert not Simulator(servers=1, region="sim-1").model.lenient_mode


async def test_unknown_job_is_common_0011(client: httpx.AsyncClient, sim: Simulator) -> None:
    response = await client.get(f"/v1/{sim.project_id}/jobs/ff80808288d41e1b018990260955686a")
    assert response.status_code == 400
    assert response.json()["code"] == "Common.0011"
    assert response.json()["message"]


@pytest.mark.parametrize(
    ("template", "status", "check"),
    [
        (
            "/v2/{p}/cloudservers/" + HEALTHY + "/reinstallos",
            400,
            lambda j: j["error"]["code"] == "Ecs.0023",
        ),
        ("/v1/{p}/cloudservers/detail", 400, lambda j: j["error"]["code"] == "Ecs.0023"),
        ("/v1/{p}/jobs/abc", 400, lambda j: j["code"] == "Common.0018"),
        ("/v2.1/{p}/os-keypairs", 400, lambda j: "badRequest" in j),
    ],
)
async def test_foreign_project_is_refused(
    client: httpx.AsyncClient, sim: Simulator, template: str, status: int, check: Any
) -> None:
    path = template.format(p="0" * 32)
    method = "POST" if path.endswith("reinstallos") else "GET"
    response = await client.request(method, path, json=key_body(sim) if method == "POST" else None)
    assert response.status_code == status
    assert check(response.json())
    assert sim.state()["jobs"] == {}


async def test_every_answer_has_a_request_id(client: httpx.AsyncClient, sim: Simulator) -> None:
    for method, path in [
        ("GET", f"/v1/{sim.project_id}/cloudservers/detail"),
        ("GET", f"/v1/{sim.project_id}/cloudservers/{UNKNOWN_SERVER}"),
        ("GET", "/v9/nothing/here"),
        ("GET", "/_simulator/state"),
    ]:
        response = await client.request(method, path)
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"]), path


async def test_ground_truth_over_http_matches_python(
    client: httpx.AsyncClient, sim: Simulator
) -> None:
    await reinstall(client, sim, HEALTHY, key_body(sim))
    await reinstall(client, sim, LOCKED, key_body(sim))
    state = (await client.get("/_simulator/state")).json()
    assert state["servers"][HEALTHY]["reinstalls_accepted"] == 1
    assert state["servers"][LOCKED]["reinstalls_accepted"] == 0
    counts = state["requests"]["POST /v2/{project_id}/cloudservers/{server_id}/reinstallos"]
    assert counts == {"200": 1, "400": 1}
    assert "GET /_simulator/state" not in state["requests"]
    job_id = state["servers"][HEALTHY]["jobs"][0]
    assert state["jobs"][job_id]["status"] == "INIT"
    assert sim.state()["servers"] == state["servers"]


def test_sync_transport(sim: Simulator) -> None:
    with httpx.Client(
        transport=sim.sync_transport(), base_url=sim.endpoint, auth=auth_for(sim)
    ) as client:
        response = client.post(reinstall_path(sim, HEALTHY), json=key_body(sim))
        assert response.status_code == 200
        assert (
            client.get(f"/v1/{sim.project_id}/jobs/{response.json()['job_id']}").json()["status"]
            == "INIT"
        )


async def test_concurrent_reinstalls_accept_exactly_one(
    client: httpx.AsyncClient, sim: Simulator
) -> None:
    responses = await asyncio.gather(
        *(reinstall(client, sim, HEALTHY, key_body(sim)) for _ in range(20))
    )
    assert sorted(r.status_code for r in responses) == [200] + [501] * 19
    assert sim.state()["servers"][HEALTHY]["reinstalls_accepted"] == 1
