"""Listing servers (filters, page-number paging), one server, key pairs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ecs_notebook.simulator import ManualClock, Simulator

from .conftest import (
    LOCKED,
    OTHER_USER,
    STOPPED,
    UNKNOWN_SERVER,
    WINDOWS,
    auth_for,
    key_body,
    reinstall_path,
)


async def listing(client: httpx.AsyncClient, sim: Simulator, **params: Any) -> dict[str, Any]:
    response = await client.get(f"/v1/{sim.project_id}/cloudservers/detail", params=params)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def names(data: dict[str, Any]) -> list[str]:
    return [s["name"] for s in data["servers"]]


@pytest.fixture
async def big() -> Any:
    sim = Simulator(servers=120, seed=5)
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.endpoint, auth=auth_for(sim)
    ) as client:
        yield sim, client


async def test_page_number_paging(big: Any) -> None:
    sim, client = big
    first = await listing(client, sim)
    assert first["count"] == 120 and len(first["servers"]) == 25
    assert (await listing(client, sim, offset=0))["servers"] == first["servers"]
    assert (await listing(client, sim, offset=1))["servers"] == first["servers"]
    seen = []
    for page in range(1, 5):
        data = await listing(client, sim, limit=40, offset=page)
        assert data["count"] == 120
        seen += [s["id"] for s in data["servers"]]
    assert seen == sim.server_ids()
    assert (await listing(client, sim, limit=1000))["count"] == 120


@pytest.mark.parametrize(
    "params",
    [{"limit": 1001}, {"limit": 0}, {"limit": "ten"}, {"offset": -1}, {"status": "RUNNING"}],
)
async def test_bad_paging_is_0005(big: Any, params: dict[str, Any]) -> None:
    sim, client = big
    response = await client.get(f"/v1/{sim.project_id}/cloudservers/detail", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "Ecs.0005"


async def test_marker_paging(big: Any) -> None:
    sim, client = big
    ids = sim.server_ids()
    data = await listing(client, sim, limit=10, marker=ids[9])
    assert [s["id"] for s in data["servers"]] == ids[10:20]


async def test_generated_fleet_filters(big: Any) -> None:
    sim, client = big
    prod = await listing(client, sim, tags="env=prod", limit=1000)
    assert prod["count"] > 0 and all("env=prod" in s["tags"] for s in prod["servers"])
    not_prod = await listing(client, sim, **{"not-tags": "env=prod"}, limit=1000)
    assert prod["count"] + not_prod["count"] == 120
    web = await listing(client, sim, name="^web-00", limit=1000)
    assert web["count"] > 0 and all(n.startswith("web-00") for n in names(web))
    any_char = await listing(client, sim, name="web.001")
    assert names(any_char) == ["web-001"]
    flavor = sim.model.servers[sim.server_ids()[0]].flavor.id
    by_flavor = await listing(client, sim, flavor=flavor, limit=1000)
    assert all(s["flavor"]["id"] == flavor for s in by_flavor["servers"])
    shutoff = await listing(client, sim, status="SHUTOFF", limit=1000)
    active = await listing(client, sim, status="ACTIVE", limit=1000)
    assert shutoff["count"] + active["count"] == 120
    first = sim.model.servers[sim.server_ids()[0]]
    exact = await listing(client, sim, ip_eq=first.private_ip)
    assert [s["id"] for s in exact["servers"]] == [first.id]
    reservation = await listing(client, sim, reservation_id=first.reservation_id)
    assert first.id in [s["id"] for s in reservation["servers"]]
    assert (await listing(client, sim, enterprise_project_id="all_granted_eps"))["count"] == 120
    assert (await listing(client, sim, enterprise_project_id="nope"))["count"] == 0


async def test_filters_on_the_small_fleet(client: httpx.AsyncClient, sim: Simulator) -> None:
    assert names(await listing(client, sim, ip="10.9.9")) == ["win-01"]
    assert names(await listing(client, sim, tags="env=staging,role=web")) == ["web-02"]
    by_id = await listing(client, sim, server_id=f"{LOCKED},{UNKNOWN_SERVER}", name="nothing")
    assert by_id["count"] == 2
    assert by_id["servers"][0]["locked"] is True
    assert (
        by_id["servers"][1]["id"] == UNKNOWN_SERVER and by_id["servers"][1]["fault"]["code"] == 404
    )


async def test_transient_status_is_folded(
    client: httpx.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    assert (await client.post(reinstall_path(sim, STOPPED), json=key_body(sim))).status_code == 200
    clock.advance(2)
    rebuilding = await listing(client, sim, status="REBUILD")
    assert [s["id"] for s in rebuilding["servers"]] == [STOPPED]
    assert STOPPED in [s["id"] for s in (await listing(client, sim, status="SHUTOFF"))["servers"]]
    assert STOPPED not in [
        s["id"] for s in (await listing(client, sim, status="ACTIVE"))["servers"]
    ]


async def test_server_detail_fields(client: httpx.AsyncClient, sim: Simulator) -> None:
    response = await client.get(f"/v1/{sim.project_id}/cloudservers/{WINDOWS}")
    detail = response.json()["server"]
    assert set(response.json()) == {"server"}
    for key in (
        "id", "name", "status", "OS-EXT-STS:vm_state", "OS-EXT-STS:task_state",
        "OS-EXT-STS:power_state", "locked", "image", "metadata", "flavor", "addresses",
        "key_name", "OS-EXT-AZ:availability_zone", "created", "updated", "tags",
        "os-extended-volumes:volumes_attached",
    ):  # fmt: skip
        assert key in detail, key
    assert set(detail["image"]) == {"id"}
    assert detail["metadata"]["os_type"] == "Windows"
    assert {"image_name", "os_bit", "charging_mode", "vpc_id"} <= set(detail["metadata"])
    assert all(isinstance(detail["flavor"][k], str) for k in ("vcpus", "ram", "disk"))
    assert detail["flavor"]["id"] == "s6.large.2" and detail["flavor"]["vcpus"] == "2"
    assert detail["created"].endswith("Z") and not detail["OS-SRV-USG:launched_at"].endswith("Z")
    address = next(iter(detail["addresses"].values()))[0]
    assert address["addr"] == "10.9.9.9" and address["OS-EXT-IPS:type"] == "fixed"
    assert detail["os-extended-volumes:volumes_attached"][0]["bootIndex"] == "0"
    assert detail["OS-EXT-STS:power_state"] == 1


async def test_unknown_server_is_404(client: httpx.AsyncClient, sim: Simulator) -> None:
    response = await client.get(f"/v1/{sim.project_id}/cloudservers/{UNKNOWN_SERVER}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "Ecs.0114"


async def test_keypairs(client: httpx.AsyncClient, sim: Simulator) -> None:
    listed = (await client.get(f"/v2.1/{sim.project_id}/os-keypairs")).json()["keypairs"]
    assert [k["keypair"]["name"] for k in listed] == ["KeyPair-demo", "KeyPair-other"]
    assert set(listed[0]["keypair"]) == {"name", "fingerprint", "public_key", "type"}
    limited = (await client.get(f"/v2.1/{sim.project_id}/os-keypairs", params={"limit": 1})).json()
    assert len(limited["keypairs"]) == 1
    after = await client.get(
        f"/v2.1/{sim.project_id}/os-keypairs", params={"marker": "KeyPair-demo"}
    )
    assert [k["keypair"]["name"] for k in after.json()["keypairs"]] == ["KeyPair-other"]
    one = (await client.get(f"/v2.1/{sim.project_id}/os-keypairs/KeyPair-other")).json()["keypair"]
    assert one["user_id"] == OTHER_USER and one["name"] == "KeyPair-other"
    mine = (await client.get(f"/v2.1/{sim.project_id}/os-keypairs/{sim.keypair_name}")).json()
    assert mine["keypair"]["user_id"] == sim.user_id
    missing = await client.get(f"/v2.1/{sim.project_id}/os-keypairs/nope")
    assert missing.status_code == 404 and missing.json()["itemNotFound"]["code"] == 404


async def test_status_of_stopped_server(client: httpx.AsyncClient, sim: Simulator) -> None:
    detail = (await client.get(f"/v1/{sim.project_id}/cloudservers/{STOPPED}")).json()["server"]
    assert (detail["status"], detail["OS-EXT-STS:vm_state"], detail["OS-EXT-STS:power_state"]) == (
        "SHUTOFF",
        "stopped",
        4,
    )
