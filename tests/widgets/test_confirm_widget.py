"""Nothing is sent until the user types the right number, and the send fires once."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.sim import FAST, keypair_request

from ecs_notebook.client import SyncEcsClient
from ecs_notebook.fleet import FleetRun
from ecs_notebook.simulator import Simulator
from ecs_notebook.widgets import ConfirmPanel
from ecs_notebook.widgets.testing import send_from_browser

REINSTALL = "POST /v2/{project_id}/cloudservers/{server_id}/reinstallos"


def posts(sim: Simulator) -> int:
    return sum(sim.state()["requests"].get(REINSTALL, {}).values())


def planned(sim: Simulator, client: SyncEcsClient, tmp_path: Path) -> tuple[ConfirmPanel, int]:
    run = FleetRun(client, tmp_path / "run.jsonl", schedule=FAST)
    plan = run.plan(keypair_request(sim))
    panel = ConfirmPanel()
    panel.show(plan, keypair_request(sim), run)
    return panel, plan.count


def test_the_panel_says_what_will_happen_to_how_many_servers(
    sim: Simulator, client: SyncEcsClient, tmp_path: Path
) -> None:
    sim.model.servers[sim.server_ids()[0]].locked = True
    panel, count = planned(sim, client, tmp_path)
    assert count == 11
    assert "reinstalls the OS of 11 servers and wipes their system disks" in panel.summary.value
    assert "1 server skipped" in panel.summary.value and "locked" in panel.summary.value
    assert panel.submit_button.disabled  # nothing typed yet
    assert panel.submit_button.description == "Reinstall 11 servers"


def test_a_wrong_number_sends_nothing(
    sim: Simulator, client: SyncEcsClient, tmp_path: Path
) -> None:
    panel, count = planned(sim, client, tmp_path)
    for typed in (str(count - 1), "twelve", str(count + 1)):
        send_from_browser(panel.count, value=typed)
        assert not panel.submit_button.disabled
        panel.submit_button.click()
        assert "nothing was sent" in panel.message.value
    assert posts(sim) == 0
    assert panel.run is not None and not panel.run.running and len(panel.run.book) == 0
    assert not (tmp_path / "run.jsonl").exists()


def test_the_right_number_submits_once_even_when_clicked_twice(
    sim: Simulator, client: SyncEcsClient, tmp_path: Path
) -> None:
    panel, count = planned(sim, client, tmp_path)
    started: list[FleetRun] = []
    panel.on_start(started.append)
    send_from_browser(panel.count, value=str(count))
    panel.submit_button.click()
    assert panel.submit_button.disabled and panel.count.disabled
    panel.submit_button.click()
    assert panel.submit() is False
    summary = panel.wait(60)
    assert summary.counts == {"SUCCESS": count}
    assert posts(sim) == count and len(started) == 1
    assert panel.progress.value == count == panel.progress.max
    assert f"accepted {count}" in panel.progress_label.value
    assert panel.cancel_button.disabled


def test_cancel_stops_new_submissions(tmp_path: Path) -> None:
    from support.sim import client_for

    sim = Simulator(servers=40, seed=3, job_seconds=0.3, latency_ms=40)
    client = SyncEcsClient(client_for(sim))
    run = FleetRun(client, tmp_path / "run.jsonl", schedule=FAST, concurrency=1)
    plan = run.plan(keypair_request(sim))
    panel = ConfirmPanel()
    panel.show(plan, keypair_request(sim), run)
    send_from_browser(panel.count, value=str(plan.count))
    assert panel.submit()
    assert not panel.cancel_button.disabled
    panel.cancel_button.click()
    assert "cancelled" in panel.message.value and panel.cancel_button.disabled
    summary = panel.wait(60)
    assert summary.counts.get("NOT_SENT", 0) > 0
    assert posts(sim) == summary.counts.get("SUCCESS", 0) < plan.count
    assert "not sent" in panel.progress_label.value


@pytest.mark.parametrize("failing", [0, 3], ids=["canary", "wave-2"])
def test_the_submitted_bar_follows_a_halted_run_that_is_continued(
    sim: Simulator, client: SyncEcsClient, tmp_path: Path, failing: int
) -> None:
    """Found by hand: after Continue on a run that had ended halted, the bar stayed put."""
    from ecs_notebook.fleet.rollout import Rollout

    panel, count = planned(sim, client, tmp_path)
    run = panel.run
    assert run is not None
    order = sorted(sim.model.servers.values(), key=lambda s: (s.name, s.id))
    order[failing].reinstall_fails = True  # in wave 1 (the canary) or wave 2
    panel.rollout_source = lambda: Rollout(waves=[1, 5])
    send_from_browser(panel.count, value=str(count))
    assert panel.submit()
    panel.wait(60)
    assert run.halted is not None
    assert panel.progress.value == posts(sim) < count and panel.cancel_button.disabled
    run.proceed()  # the console's Continue: a fresh budget for the held servers
    summary = run.wait(60)  # as in the console: nobody calls panel.wait()
    run.book.notify(always=True)  # the last change notice may still be on its way
    assert summary.counts == {"FAIL": 1, "SUCCESS": count - 1}
    assert panel.progress.value == count == posts(sim)
    assert f"accepted {count}" in panel.progress_label.value
