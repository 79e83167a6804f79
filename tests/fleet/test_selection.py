"""Selection, pre-flight and confirmation: pure, nothing sent."""

from __future__ import annotations

import pytest

from ecs_notebook.fleet import ConfirmationError, ServerFilter, preflight, select, servers_frame
from ecs_notebook.model import ReinstallRequest
from ecs_notebook.model.servers import Server

REQ = ReinstallRequest(
    keyname="KeyPair-demo", userid="7e25b1da389f4697a79df3a0e5bfa2a8", mode="withStopServer"
)


def srv(i: int, **kw: object) -> Server:
    base: dict[str, object] = {
        "id": f"00000000-0000-4000-8000-{i:012d}",
        "name": f"web-{i:02d}",
        "status": "ACTIVE",
        "tags": ("env=prod", "role=web"),
        "availability_zone": "az1",
        "image_name": "Ubuntu 22.04",
    }
    base.update(kw)
    return Server(**base)  # type: ignore[arg-type]


def test_filters_combine() -> None:
    fleet = [
        srv(1),
        srv(2, name="db-02"),
        srv(3, tags=("env=dev",)),
        srv(4, availability_zone="az2"),
        srv(5, image_name="CentOS 7"),
        srv(6, status="SHUTOFF"),
    ]
    picked = select(
        fleet,
        ServerFilter(
            name_regex="^web", tags=("env=prod",), availability_zone="az1", image="ubuntu"
        ),
    )
    assert [s.name for s in picked] == ["web-01", "web-06"]
    assert [s.name for s in select(fleet, ServerFilter(status="shutoff"))] == ["web-06"]
    assert len(servers_frame(fleet)) == 6


def test_bad_regex_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a valid regex"):
        ServerFilter(name_regex="web-(")


def test_preflight_skips_with_reasons() -> None:
    fleet = [
        srv(1),
        srv(2, locked=True),
        srv(3, status="REBUILD", task_state="rebuilding"),
        srv(4, has_system_disk=False),
        srv(5, status="ERROR"),
    ]
    plan = preflight(fleet, REQ, keypairs=["KeyPair-demo"])
    assert [s.name for s in plan.targets] == ["web-01"]
    reasons = {s.name: s.reason for s in plan.skipped}
    assert "locked" in reasons["web-02"]
    assert "rebuilding" in reasons["web-03"]
    assert "system disk" in reasons["web-04"]
    assert "ERROR" in reasons["web-05"]


def test_preflight_catches_unknown_keypairs_duplicates_and_strangers() -> None:
    fleet = [srv(1), srv(2)]
    plan = preflight(fleet, REQ, keypairs=["other"])
    assert plan.count == 0 and all("does not exist" in s.reason for s in plan.skipped)
    ids = [fleet[0].id, fleet[0].id, "11111111-0000-4000-8000-000000000000"]
    plan = preflight(fleet, REQ, requested_ids=ids)
    assert [s.id for s in plan.targets] == [fleet[0].id]
    assert sorted(s.reason for s in plan.skipped) == [
        "named twice",
        "no such server in this project",
    ]


def test_stopped_only_regions_need_with_stop_server() -> None:
    no_mode = REQ.with_changes(mode=None)
    plan = preflight([srv(1), srv(2, status="SHUTOFF")], no_mode, stopped_only=True)
    assert [s.name for s in plan.targets] == ["web-02"]
    assert "withStopServer" in plan.skipped[0].reason


def test_confirmation_with_the_right_number() -> None:
    plan = preflight([srv(1), srv(2)], REQ)
    assert plan.confirm(2).plan is plan


@pytest.mark.parametrize("wrong", [0, 1, 3, "2", True, None])
def test_confirmation_must_state_the_exact_number(wrong: object) -> None:
    plan = preflight([srv(1), srv(2)], REQ)
    with pytest.raises(ConfirmationError, match="nothing was sent"):
        plan.confirm(wrong)  # type: ignore[arg-type]
