"""The whole console, driven as a user would (and as a headless runbook does)."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from pathlib import Path

from ipywidgets import Widget
from support.sim import FAST

from ecs_notebook.client import SyncEcsClient
from ecs_notebook.simulator import Simulator
from ecs_notebook.widgets import Console, console, simulator_console
from ecs_notebook.widgets.form import LOGIN_PASSWORD
from ecs_notebook.widgets.testing import CommRecorder, send_from_browser

PASSWORD = "Zq7!kept-in-kernel"
REINSTALL = "POST /v2/{project_id}/cloudservers/{server_id}/reinstallos"


def posts(sim: Simulator) -> int:
    return sum(sim.state()["requests"].get(REINSTALL, {}).values())


def test_password_reinstall_end_to_end_without_leaking_the_password(
    sim: Simulator, client: SyncEcsClient, tmp_path: Path, recorder: CommRecorder
) -> None:
    ui = console(client, journal=tmp_path, schedule=FAST)
    form = ui.form
    form.login.value = LOGIN_PASSWORD
    send_from_browser(form.adminpass.box, value=PASSWORD)
    send_from_browser(form.adminpass_repeat.box, value=PASSWORD)
    send_from_browser(form.user_data, value="#cloud-config\nruncmd: [touch /ok]\n")
    assert form.sendable and not form.submit_button.disabled
    assert "&quot;adminpass&quot;: &quot;********&quot;" in ui.preview.body.value

    send_from_browser(ui.picker.name_pattern, value="^(web|db)-")
    ui.picker.select_all_button.click()
    chosen = ui.picker.selected_ids
    assert chosen and chosen[0] in ui.preview.url.value

    form.submit_button.click()
    plan = ui.confirm.plan
    assert plan is not None and plan.count == len(chosen)
    send_from_browser(ui.confirm.count, value="999")
    ui.confirm.submit_button.click()
    assert posts(sim) == 0 and ui.run is None

    send_from_browser(ui.confirm.count, value=str(plan.count))
    ui.confirm.submit_button.click()
    ui.confirm.submit_button.click()
    summary = ui.wait(60)
    assert summary.counts == {"SUCCESS": plan.count} and posts(sim) == plan.count
    assert ui.table.status_counts() == {"SUCCESS": plan.count} and not ui.table.refreshing
    assert len(list(tmp_path.glob("reinstall-*.jsonl"))) == 1

    visible = "\n".join(
        [recorder.transcript(), json.dumps(Widget.get_manager_state(), default=repr), repr(ui)]
    )
    assert PASSWORD not in visible
    assert PASSWORD not in (tmp_path / next(tmp_path.iterdir()).name).read_text()


def test_planning_needs_a_selection_and_a_valid_request(
    client: SyncEcsClient, tmp_path: Path
) -> None:
    ui = Console(client, journal=tmp_path / "one.jsonl")
    assert ui.form.keyname.value == "KeyPair-demo"  # the simulator's only key pair
    ui.form.login.value = LOGIN_PASSWORD
    ui.form.set_password("Abcd@1234xyz")
    assert ui.plan() is None
    assert "select at least one server" in ui.confirm.message.value
    ui.picker.select_all_matching()
    plan = ui.plan()
    assert plan is not None and plan.count == 12
    assert ui._journal_path() == tmp_path / "one.jsonl"


def test_simulator_console_runs_a_key_pair_reinstall_headless(tmp_path: Path) -> None:
    ui = simulator_console(servers=6, seed=2, job_seconds=0.4, schedule=FAST, journal=tmp_path)
    assert ui.simulator is not None
    ui.form.keyname.value = ui.simulator.keypair_name
    assert ui.form.userid.value == ui.simulator.user_id
    ui.picker.select_all_matching()
    plan = ui.plan()
    assert plan is not None
    ui.confirm.count.value = str(plan.count)
    assert ui.confirm.submit()
    summary = ui.wait(60)
    assert summary.succeeded == plan.count == posts(ui.simulator)
    # The outcome panel filled in by itself, with a CSV download of every row.
    assert ui.outcome.summary is not None and ui.outcome.summary.succeeded == plan.count
    link = ui.outcome.download.value
    encoded = re.search(r"base64,([A-Za-z0-9+/=]+)", link)
    assert encoded is not None
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(encoded.group(1)).decode())))
    assert len(rows) == plan.count + len(plan.skipped)
    assert {r["status"] for r in rows if r["status"] != "SKIPPED"} == {"SUCCESS"}
    assert all(float(r["duration_s"]) > 0 for r in rows if r["status"] == "SUCCESS")
    assert f"{len(rows)} of {len(rows)} finished · elapsed" in ui.table.progress_view.value


def test_a_staged_run_in_the_console_halts_on_its_canary_and_continues(tmp_path: Path) -> None:
    ui = simulator_console(servers=8, seed=4, job_seconds=0.3, schedule=FAST, journal=tmp_path)
    sim = ui.simulator
    assert sim is not None
    for server in sim.model.servers.values():
        server.locked, server.system_disk, server.cloud_init = False, True, True
    ui.form.keyname.value = sim.keypair_name
    ui.form.mode.value = True  # withStopServer
    ui.picker.select_all_matching()
    plan = ui.plan()
    assert plan is not None and plan.count == 8
    canary = min(sim.model.servers.values(), key=lambda s: (s.name, s.id))
    canary.unhealthy_after_reinstall = True

    send_from_browser(ui.rollout.waves_input, value="1,x")
    assert "wave size 2" in ui.rollout.problem_areas["waves"].value
    ui.confirm.count.value = "8"
    assert not ui.confirm.submit() and posts(sim) == 0  # invalid staging: nothing sent
    assert "rollout settings" in ui.confirm.message.value

    send_from_browser(ui.rollout.waves_input, value="1,3")
    assert "8 servers in 4 waves: 1, 3, 3, 1" in ui.confirm.staging.value
    ui.confirm.count.value = "8"
    assert ui.confirm.submit()
    ui.wait(60)
    assert posts(sim) == 1  # the canary only
    assert "halted in wave 1" in ui.rollout.banner.value
    assert "UNHEALTHY" in ui.rollout.banner.value or "unhealthy" in ui.rollout.banner.value
    assert not ui.rollout.continue_button.disabled and ui.rollout.waves_input.disabled

    ui.rollout.continue_button.click()
    summary = ui.wait(60)
    assert summary.counts == {"UNHEALTHY": 1, "SUCCESS": 7}
    assert ui.table.status_counts() == {"UNHEALTHY": 1, "SUCCESS": 7}
    assert posts(sim) == 8
    assert ui.rollout.banner.value == "" and ui.rollout.continue_button.disabled
    assert "4" in ui.rollout.waves_view.value
    # The waves show on the fleet picture (re-attached on Continue: waves 2 to 4).
    labels = [label for _, label in ui.table.picture.history.marks]
    assert "wave 4" in labels and len(labels) >= 2, labels
