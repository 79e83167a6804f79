"""A staged run in the console, in a real JupyterLab, driven like a user: the rollout section
beside the confirmation, the waves view, the halt banner of a failing canary, Continue.

Judged by what the page shows and by the simulator's ground truth (printed by a cell run
after the browser's clicks): one reinstall before Continue, every server once after it.
"""

from __future__ import annotations

import re
from typing import Any

import nbformat
import pytest
from support.lab import Lab, assert_no_widget_errors, open_notebook, run_all, wait_idle

pytestmark = pytest.mark.browser

SETUP = """\
from ecs_notebook.widgets import simulator_console

ui = simulator_console(servers=8, seed=4, job_seconds=1.0)
sim = ui.simulator
for server in sim.model.servers.values():
    server.locked, server.system_disk, server.cloud_init = False, True, True
canary = min(sim.model.servers.values(), key=lambda s: (s.name, s.id))
canary.reinstall_fails = True  # the first server in plan order: the canary
ui.form.keyname.value = sim.keypair_name
ui.form.mode.value = True
ui.picker.select_all_matching()
ui
"""
TRUTH = """\
truth = sim.state()["servers"]
print("accepted:", sorted(s["reinstalls_accepted"] for s in truth.values()))
"""


def notebook(lab: Lab) -> str:
    nb = nbformat.read(lab.root / "01-reinstall-one-server.ipynb", as_version=4)  # its kernel
    nb.cells = [nbformat.v4.new_code_cell(SETUP)]
    nbformat.write(nb, lab.root / "staged-console.ipynb")
    return "staged-console.ipynb"


def add_cell_and_run(page: Any, code: str) -> None:
    page.locator(".jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.type(code)
    page.keyboard.press("Shift+Enter")


@pytest.mark.timeout(300)
def test_a_staged_run_halts_on_its_canary_and_continue_finishes(page: Any, lab: Lab) -> None:
    shot = page.shots
    open_notebook(page, lab, notebook(lab))
    run_all(page)
    wait_idle(page)
    page.locator(".ecs-rollout").wait_for()
    assert_no_widget_errors(page)

    # Stage it: a canary, then waves of 3. The confirmation says how the run is staged.
    waves = page.locator(".ecs-rollout-waves input")
    waves.fill("1,3")
    waves.press("Enter")
    page.locator("button.ecs-submit:not([disabled])").click()
    page.locator(".ecs-confirm-staging").get_by_text("8 servers in 4 waves: 1, 3, 3, 1").wait_for()
    page.locator(".ecs-rollout-staging").get_by_text("halts at the first error").wait_for()
    shot("staged-confirmation")

    page.locator(".ecs-confirm-count input").fill("8")
    page.locator(".ecs-confirm-count input").press("Enter")
    page.locator("button.ecs-confirm-submit").click()

    # The canary fails: the halt banner says why, the waves view shows the held waves.
    banner = page.locator(".ecs-rollout-banner")
    banner.get_by_text(re.compile("halted in wave 1")).wait_for(timeout=60_000)
    assert "failed" in banner.inner_text()
    view = page.locator(".ecs-rollout-waves-view")
    assert "held" in view.inner_text().lower()
    page.locator("button.ecs-rollout-continue:not([disabled])").wait_for()
    assert_no_widget_errors(page)
    shot("halted")
    add_cell_and_run(page, TRUTH)
    page.get_by_text("accepted: [0, 0, 0, 0, 0, 0, 0, 1]").wait_for()

    # Continue: a fresh budget for the held servers; the rest goes wave by wave to the end.
    page.locator("button.ecs-rollout-continue").click()
    page.locator(".ecs-counts").get_by_text(re.compile(r"SUCCESS\D*7")).first.wait_for(
        timeout=90_000
    )
    page.wait_for_function(
        "() => !(document.querySelector('.ecs-rollout-banner')?.textContent || '')"
        ".includes('halted')"
    )
    assert page.locator("button.ecs-rollout-continue").is_disabled()
    shot("continued-to-the-end")
    add_cell_and_run(page, TRUTH)
    page.get_by_text("accepted: [1, 1, 1, 1, 1, 1, 1, 1]").wait_for()
    assert_no_widget_errors(page)
