"""Fleet files and generated fleets."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ecs_notebook.simulator import FleetError, Simulator

from .conftest import FLEET, HEALTHY, OTHER_USER


def test_fleet_defaults() -> None:
    sim = Simulator(fleet={"servers": [{"id": HEALTHY, "name": "only"}]})
    server = sim.model.servers[HEALTHY]
    assert (server.status, server.locked, server.system_disk, server.cloud_init) == (
        "ACTIVE",
        False,
        True,
        True,
    )
    assert server.os_type == "Linux" and server.flavor.id == "s6.large.2"
    assert server.availability_zone == "sim-1a"
    assert sim.server_ids() == [HEALTHY]
    assert sorted(sim.model.keypairs) == [sim.keypair_name]
    assert sim.model.byol_supported


def test_fleet_file(tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps({**FLEET, "byol_supported": False}))
    sim = Simulator(fleet=path)
    assert len(sim.server_ids()) == 6
    assert sim.model.keypairs["KeyPair-other"].user_id == OTHER_USER
    assert not sim.model.byol_supported
    assert Simulator(fleet=str(path), byol_supported=True).model.byol_supported


@pytest.mark.parametrize(
    ("fleet", "message"),
    [
        ([], "top level must be an object"),
        ({"servers": {}}, "servers must be a list"),
        ({"server": []}, "unknown key 'server'"),
        ({"servers": [{"name": "a"}]}, r"servers\[0\]\.id: is required"),
        ({"servers": [{"id": "abc", "name": "a"}]}, "not a UUID"),
        (
            {"servers": [{"id": HEALTHY, "name": "a", "status": "RUNNING"}]},
            "one of ACTIVE, SHUTOFF, ERROR",
        ),
        ({"servers": [{"id": HEALTHY, "name": "a", "locked": "yes"}]}, r"locked: wrong type str"),
        ({"servers": [{"id": HEALTHY, "name": "a", "flavor": "huge"}]}, "unknown flavor"),
        ({"servers": [{"id": HEALTHY, "name": "a", "os_type": "BSD"}]}, "Linux or Windows"),
        ({"servers": [{"id": HEALTHY, "name": "a", "colour": "red"}]}, "unknown key 'colour'"),
        ({"servers": [{"id": HEALTHY, "name": "a"}, {"id": HEALTHY, "name": "b"}]}, "duplicate id"),
        ({"servers": [], "keypairs": [{"name": "bad name"}]}, "letters, digits"),
        ({"servers": [], "byol_supported": "yes"}, "byol_supported must be true or false"),
    ],
)
def test_invalid_fleets_say_what_is_wrong(fleet: Any, message: str) -> None:
    with pytest.raises(FleetError, match=message):
        Simulator(fleet=fleet)


def test_every_problem_is_listed() -> None:
    with pytest.raises(FleetError) as caught:
        Simulator(fleet={"servers": [{"name": "a"}, {"id": HEALTHY, "name": "b", "status": "x"}]})
    assert "servers[0]" in str(caught.value) and "servers[1]" in str(caught.value)


def test_unreadable_fleet_files(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match="cannot read"):
        Simulator(fleet=tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(FleetError, match="not valid JSON"):
        Simulator(fleet=broken)


def test_generated_fleet_is_realistic_and_deterministic() -> None:
    one, two = Simulator(servers=200, seed=11), Simulator(servers=200, seed=11)
    assert one.server_ids() == two.server_ids()
    assert one.project_id == two.project_id and one.user_id == two.user_id
    assert one.server_ids() != Simulator(servers=200, seed=12).server_ids()
    servers = list(one.model.servers.values())
    assert all(re.fullmatch(r"[a-z]+-\d{3,}", s.name) for s in servers)
    assert {t.split("=")[1] for s in servers for t in s.tags if t.startswith("env=")} == {
        "prod",
        "staging",
        "dev",
    }
    assert all(any(t.startswith("role=") for t in s.tags) for s in servers)
    assert (
        len({s.flavor.id for s in servers}) > 3 and len({s.availability_zone for s in servers}) == 3
    )
    assert {s.os_type for s in servers} == {"Linux", "Windows"}
    assert {s.status for s in servers} == {"ACTIVE", "SHUTOFF"}
    assert any(s.locked for s in servers) and any(not s.system_disk for s in servers)
    assert any(not s.cloud_init for s in servers)
    healthy_head = servers[:10]
    assert all(s.cloud_init and s.system_disk and not s.locked for s in healthy_head)
    assert len({s.private_ip for s in servers}) == 200
    small = Simulator(servers=20, seed=1).model.servers.values()
    assert all(s.cloud_init and s.system_disk and not s.locked for s in small)


def test_ten_thousand_servers_are_distinct() -> None:
    sim = Simulator(servers=10_000, seed=1)  # the listing benchmark measures the time
    assert len(sim.server_ids()) == 10_000
    assert len(set(sim.server_ids())) == 10_000


def test_credentials_are_made_up_or_taken() -> None:
    sim = Simulator(servers=1)
    assert re.fullmatch(r"[A-Z0-9]{20}", sim.access_key) and len(sim.secret_key) == 40
    assert re.fullmatch(r"[0-9a-f]{32}", sim.project_id) and re.fullmatch(
        r"[0-9a-f]{32}", sim.user_id
    )
    given = Simulator(servers=1, access_key="AK", secret_key="SK", project_id="ab" * 16)
    assert (given.access_key, given.secret_key.reveal(), given.project_id) == (
        "AK",
        "SK",
        "ab" * 16,
    )
    with pytest.raises(ValueError, match="project_id"):
        Simulator(servers=1, project_id="nope")
