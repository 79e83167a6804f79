"""Run every runbook with credential-shaped values in the environment and a password typed into
the form, save it with its widget state, and find no secret in anything the run wrote."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from test_runbooks_headless import CASES, NOTEBOOKS, inject

SECRETS = {
    "HUAWEICLOUD_SDK_SK": "SkScanSecretValue0123456789abcdefABCDEFGH",
    "HUAWEICLOUD_SDK_SECURITY_TOKEN": "TokScanSecretValue-gQpjbi1ub3J0aC00",
    "ECS_NOTEBOOK_IAM_PASSWORD": "IamScanSecret@2026",
}
TYPED_PASSWORD = "Typed@Secret2026"
# The password reaches the kernel as the browser sends it (never in a cell's source).
TYPE_AND_SUBMIT = """
import os
ui.form.login.value = "password"
ui.form.adminpass.box.value = os.environ["SCAN_TYPED_PASSWORD"]
ui.form.adminpass_repeat.box.value = os.environ["SCAN_TYPED_PASSWORD"]
ui.picker.select_all_matching()
plan = ui.plan()
ui.confirm.count.value = str(plan.count)
ui.confirm.submit()
scan_summary = ui.wait(300)
assert scan_summary.counts.get("SUCCESS", 0) >= 1, scan_summary
"""


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_secret_in_anything_the_run_wrote(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "AKSCANEXAMPLE0000001")
    monkeypatch.setenv("SCAN_TYPED_PASSWORD", TYPED_PASSWORD)
    monkeypatch.setenv("ECS_NOTEBOOK_TARGET", "simulator")  # credentials present, simulator chosen
    shutil.copy(path, tmp_path / path.name)
    nb = nbformat.read(tmp_path / path.name, as_version=4)
    values, _ = CASES[path.name]
    inject(nb, {k: v for k, v in values.items() if k != "auto"})
    consoles = [
        i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "target.console(" in c.source
    ]
    if consoles:
        nb.cells.insert(consoles[0] + 1, nbformat.v4.new_code_cell(TYPE_AND_SUBMIT))
    NotebookClient(
        nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    saved = tmp_path / f"saved-{path.name}"
    nbformat.write(nb, saved)
    assert "widgets" in nb.metadata  # the widget state was stored with the notebook
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in written) == bool(consoles) or not consoles
    for file in written:
        content = file.read_bytes()
        for secret in [*SECRETS.values(), TYPED_PASSWORD]:
            assert secret.encode() not in content, f"{secret[:6]}... found in {file.name}"
