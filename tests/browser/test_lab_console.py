"""The console in a real JupyterLab, driven like a user: the whole path from form to SUCCESS."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from support.lab import Lab, assert_no_widget_errors, open_notebook, run_all, wait_idle

NOTEBOOK = "01-reinstall-one-server.ipynb"
PASSWORD = "Browser@Secret123"


def shot_from(page: Any, selector: str, path: Path) -> None:
    """A screenshot of the viewport with ``selector`` scrolled to its top."""
    page.locator(selector).first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(path))


def text_of(page: Any, selector: str) -> str:
    return str(page.locator(selector).first.inner_text())


@pytest.mark.timeout(300)
def test_form_preview_submit_and_live_table_in_jupyterlab(page: Any, lab: Lab) -> None:
    shot = page.shots
    notebook = lab.copy(NOTEBOOK)  # this test saves: work on a copy
    open_notebook(page, lab, notebook)
    run_all(page)
    wait_idle(page)
    page.locator(".ecs-target-banner").get_by_text("SIMULATOR").wait_for()
    page.locator(".ecs-console").wait_for()
    assert_no_widget_errors(page)
    shot("console-rendered")

    # Password login: a weak password is flagged next to its field, and Plan stays disabled.
    page.locator(".ecs-login button", has_text=re.compile("password", re.I)).click()
    password = page.locator(".ecs-adminpass input")
    password.fill("weak")
    password.press("Enter")
    page.locator(".ecs-problem-adminpass .ecs-err").first.wait_for()
    assert page.locator("button.ecs-submit").is_disabled()
    shot("weak-password-flagged")

    # A good one, typed twice: checked when the second box is left (Tab), no Enter needed.
    password.fill(PASSWORD)
    password.press("Tab")
    page.locator(".ecs-problem-adminpass").get_by_text("again in the second box").wait_for()
    repeat = page.locator(".ecs-adminpass-repeat input")
    repeat.fill(PASSWORD + "x")  # a typo
    repeat.press("Tab")
    page.locator(".ecs-problem-adminpass").get_by_text("passwords differ").wait_for()
    assert page.locator("button.ecs-submit").is_disabled()
    shot("passwords-differ")
    repeat.fill(PASSWORD)
    repeat.press("Tab")
    page.locator(".ecs-problem-adminpass .ecs-err").first.wait_for(state="detached")
    page.wait_for_function(
        "() => (document.querySelector('.ecs-preview-body')?.textContent || '')"
        ".includes('********')"
    )
    assert PASSWORD not in page.inner_text("body")
    assert page.locator(".ecs-problem-adminpass .ecs-err").count() == 0

    # User data: typed, shown decoded and encoded, measured against 32 KB.
    page.locator(".ecs-user-data textarea").fill("#cloud-config\npackages: [nginx]\n")
    page.wait_for_function(
        "() => (document.querySelector('.ecs-preview-user-data-encoded')?.textContent || '')"
        ".includes('I2Nsb3VkLWNvbmZpZw')"
    )
    assert "packages: [nginx]" in text_of(page, ".ecs-preview-user-data")
    shot("preview-updated")

    # Pick the server (the notebook pre-filtered the picker), plan, confirm with the count.
    page.locator("button.ecs-picker-select-all").click()
    page.locator("button.ecs-submit:not([disabled])").click()
    page.locator(".ecs-confirm-summary").get_by_text(re.compile(r"\b1\b")).first.wait_for()
    page.locator(".ecs-confirm-count input").fill("1")
    page.locator(".ecs-confirm-count input").press("Enter")
    page.locator("button.ecs-confirm-submit").click()
    page.locator(".ecs-job-table").get_by_text(
        re.compile("INIT|RUNNING|SUBMITTING")
    ).first.wait_for()
    shot("submitted")

    # Elapsed time moves on its own (the ticker), and the picture draws the run with a legend.
    progress = page.locator(".ecs-progress .widget-html-content")
    progress.get_by_text("elapsed").wait_for()
    before = progress.inner_text()
    page.wait_for_function(
        "(before) => (document.querySelector('.ecs-progress .widget-html-content')?.innerText"
        " || before) !== before",
        arg=before,
    )
    legend = page.locator(".ecs-picture-legend .ecs-legend-item")
    legend.get_by_text(re.compile("^(SUBMITTING|INIT|RUNNING|SUCCESS)$")).first.wait_for()
    plot = page.locator(".ecs-picture svg").first.bounding_box()
    key = page.locator(".ecs-picture-legend").first.bounding_box()
    assert plot is not None and key is not None
    assert key["y"] >= plot["y"] + plot["height"] - 1  # under the plot, not over the bands

    # Another cell runs (the kernel is busy) while the table keeps moving to SUCCESS.
    last = page.locator(".jp-Cell").last
    last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # new cell below
    page.keyboard.press("Enter")
    page.keyboard.type("import time\ntime.sleep(25)\nprint('other cell done')")
    page.keyboard.press("Shift+Enter")
    page.locator(".jp-InputPrompt", has_text="[*]").first.wait_for()
    page.locator(".ecs-counts").get_by_text(re.compile(r"SUCCESS\D*1")).first.wait_for(
        timeout=60_000
    )
    assert page.locator(".jp-InputPrompt", has_text="[*]").count() == 1  # still running
    progress.get_by_text("1 of 1 finished").wait_for()
    legend.get_by_text("SUCCESS").first.wait_for()  # the picture follows the run
    shot("success-while-another-cell-runs")

    # The outcome: a CSV download of the job table, durations in seconds.
    link = page.locator(".ecs-console .ecs-outcome-download a")
    with page.expect_download() as download:
        link.click()
    exported = Path(download.value.path()).read_text()
    assert exported.splitlines()[0].startswith("server_id,server_name,job_id,status")
    assert ",SUCCESS," in exported and "duration_s" in exported
    page.get_by_text("other cell done").wait_for(timeout=60_000)

    # Save, and the saved notebook holds no secret.
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1500)
    saved = (lab.root / notebook).read_text()
    assert "other cell done" in saved
    assert "application/vnd.jupyter.widget-state+json" in saved  # widget state was saved ...
    assert PASSWORD not in saved  # ... and holds no password
    for journal in (lab.root / "ecs-notebook-runs").glob("*.jsonl"):
        assert PASSWORD not in journal.read_text()
    shot("saved")


@pytest.mark.timeout(300)
def test_voila_app_from_plan_to_finished_with_no_cell_run_by_hand(page: Any, voila: str) -> None:
    """Runbook 01 as a Voila app: only the widgets are used, from plan to the CSV download."""
    shot = page.shots
    for attempt in range(2):  # Voila may stall while executing: reload once
        page.goto(f"{voila}/voila/render/{NOTEBOOK}", wait_until="commit")
        try:
            page.locator(".ecs-console").wait_for(timeout=90_000)
            break
        except Exception:
            if attempt:
                raise
    page.locator(".ecs-outcome").get_by_text("nothing has finished yet").first.wait_for()
    # The simulator's only key pair is preselected; the picker is pre-filtered to one server.
    page.locator("button.ecs-submit:not([disabled])").wait_for()
    page.locator("button.ecs-picker-select-all").click()
    page.locator(".ecs-picker-summary").get_by_text("1 selected").wait_for()
    # The README's pictures (docs/console.png, docs/job-table.png) are these two.
    shot_from(page, ".ecs-console", shot.folder / "console.png")
    page.locator("button.ecs-submit:not([disabled])").click()
    page.locator("button.ecs-confirm-submit").get_by_text("Reinstall 1 server").wait_for()
    page.locator(".ecs-confirm-count input").fill("1")
    page.locator(".ecs-confirm-count input").press("Enter")
    page.locator("button.ecs-confirm-submit:not([disabled])").click()
    shot("voila-submitted")
    page.locator(".ecs-progress").get_by_text("elapsed").first.wait_for()
    # Both outcome panels (the console's step 5 and the runbook's outcome cell) fill in.
    page.locator(".ecs-outcome").get_by_text("Finished.").first.wait_for(timeout=120_000)
    assert page.locator(".ecs-outcome", has_text="Finished.").count() == 2
    page.locator(".ecs-outcome").get_by_text("every server was reinstalled").first.wait_for()
    with page.expect_download() as download:
        page.locator(".ecs-outcome-download a").first.click()
    assert ",SUCCESS," in Path(download.value.path()).read_text()
    assert "Error displaying widget" not in page.inner_text("body")
    shot("voila-finished")
    shot_from(page, ".ecs-console .ecs-jobs", shot.folder / "job-table.png")
