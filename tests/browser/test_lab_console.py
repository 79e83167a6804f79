"""The console in a real JupyterLab, driven like a user: the whole path from form to SUCCESS."""

from __future__ import annotations

import re
from typing import Any

import pytest
from support.lab import Lab, assert_no_widget_errors, open_notebook, run_all, wait_idle

NOTEBOOK = "01-reinstall-one-server.ipynb"
PASSWORD = "Browser@Secret123"


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

    # A good one: the preview shows the body with the password masked.
    password.fill(PASSWORD)
    password.press("Enter")
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
    shot("success-while-another-cell-runs")
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
