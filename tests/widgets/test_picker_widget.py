"""The fleet picker filters, pages and selects servers, and shows the pre-flight result."""

from __future__ import annotations

import pytest
from support.sim import client_for

from ecs_notebook.client import SyncEcsClient
from ecs_notebook.model import ReinstallRequest
from ecs_notebook.model.servers import Server
from ecs_notebook.simulator import Simulator
from ecs_notebook.widgets import FleetPicker
from ecs_notebook.widgets.testing import CommRecorder, send_from_browser


@pytest.fixture(scope="module")
def fleet() -> list[Server]:
    sim = Simulator(servers=1000, seed=5)
    ids = sim.server_ids()
    sim.model.servers[ids[0]].locked = True
    sim.model.servers[ids[1]].system_disk = False
    return SyncEcsClient(client_for(sim)).list_servers()


def visible_rows(picker: FleetPicker) -> list[str]:
    return [
        cell.value
        for box, cell in zip(picker._rows, picker._cells, strict=True)
        if box.layout.display != "none"
    ]


def test_a_thousand_servers_show_one_page_at_a_time(
    fleet: list[Server], recorder: CommRecorder
) -> None:
    picker = FleetPicker(servers=fleet, page_size=25)
    assert len(visible_rows(picker)) == 25
    assert "of 1,000 matching" in picker.summary.value
    mark = recorder.mark()
    picker.next_button.click()
    assert picker.page == 1 and fleet[25].id in visible_rows(picker)[0]
    assert recorder.bytes_since(mark) < 20_000  # a page of rows, not the fleet


def test_pre_flight_result_is_shown_per_server(fleet: list[Server]) -> None:
    picker = FleetPicker(servers=fleet)
    rows = visible_rows(picker)
    assert "will skip: locked" in rows[0]
    assert "will skip: no system disk" in rows[1]
    assert "ecs-pf-ok" in rows[2]
    picker.set_request(ReinstallRequest(keyname="k", userid="u" * 32))
    assert "will skip: locked" in visible_rows(picker)[0]


def test_filters_narrow_the_table(fleet: list[Server]) -> None:
    picker = FleetPicker(servers=fleet)
    send_from_browser(picker.name_pattern, value="^web-0")
    assert picker.matching and all(s.name.startswith("web-0") for s in picker.matching)
    picker.status.value = "SHUTOFF"
    picker.zone.value = picker.zone.options[1][1]
    send_from_browser(picker.tags, value="env=prod, role=web")
    send_from_browser(picker.image, value="ubuntu")
    for server in picker.matching:
        assert server.status == "SHUTOFF" and server.availability_zone == picker.zone.value
        assert {"env=prod", "role=web"} <= set(server.tags)
        assert "ubuntu" in (server.image_name or "").lower()
    assert len(visible_rows(picker)) == min(25, len(picker.matching))


def test_invalid_name_pattern_is_reported_and_keeps_the_last_result(fleet: list[Server]) -> None:
    picker = FleetPicker(servers=fleet)
    send_from_browser(picker.name_pattern, value="web")
    before = list(picker.matching)
    send_from_browser(picker.name_pattern, value="web(")
    assert "not a valid regex" in picker.filter_problem.value
    assert picker.matching == before


def test_selection_by_checkbox_page_and_all_matching(fleet: list[Server]) -> None:
    picker = FleetPicker(servers=fleet, page_size=10)
    heard: list[tuple[str, ...]] = []
    picker.on_selection(heard.append)
    send_from_browser(picker._checks[2], value=True)
    assert picker.selected_ids == (fleet[2].id,) and heard[-1] == (fleet[2].id,)
    picker.select_page_button.click()
    assert len(picker.selected_ids) == 10
    send_from_browser(picker.name_pattern, value="^db-")
    picker.select_all_button.click()
    dbs = {s.id for s in fleet if s.name.startswith("db-")}
    assert dbs <= set(picker.selected_ids)
    assert "hidden by the filters" in picker.summary.value
    assert "will be skipped" in picker.summary.value  # the locked/no-disk servers of page 1
    picker.clear_button.click()
    assert not picker.selected_ids and not heard[-1]
    assert not any(c.value for c in picker._checks)


def test_picker_lists_servers_from_the_client(sim: Simulator, client: SyncEcsClient) -> None:
    picker = FleetPicker(client)
    assert len(picker.servers) == 12
    assert [o for o in picker.status.options if o[1]]  # statuses found in the fleet
