"""Every runbook executes headless (nbclient, as papermill does) against the simulator and ends
in the expected state; committed notebooks carry no outputs or widget state."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: Parameters injected as papermill would, and the final state each runbook must reach.
CASES = {
    "01-reinstall-one-server.ipynb": (
        {"auto": True, "job_seconds": 2.0},
        'assert summary is not None and summary.counts == {"SUCCESS": 1}, summary',
    ),
    "02-reinstall-a-fleet.ipynb": (
        {"auto": True, "servers": 80, "job_seconds": 2.0},
        "assert summary is not None and summary.succeeded == ui.run.book.counts()['SUCCESS'] > 0\n"
        "assert set(summary.counts) <= {'SUCCESS', 'SKIPPED', 'FAIL'}, summary\n"
        "assert Path('fleet-jobs.csv').exists()",
    ),
    "03-recover-after-a-restart.ipynb": (
        {"servers": 30, "job_seconds": 2.0},
        "assert run.book.all_finished and summary.counts.get('SUCCESS', 0) > 0, summary\n"
        "assert pause_code == 130 and 'ecs-notebook resume --journal' in said\n"
        "assert resumed_summary.all_reinstalled, resumed_summary\n"
        "assert all(s['reinstalls_accepted'] <= 2 for s in truth.values())",
    ),
    "04-training-what-can-go-wrong.ipynb": (
        {"job_seconds": 1.0},
        "assert job.status == 'FAIL' and job.error_code\n"
        "assert sim.state()['servers'][ids[3]]['reinstalls_accepted'] == 1\n"
        "assert run.halted.wave == 1 and summary.counts == {'FAIL': 1, 'HELD': len(fleet) - 1}\n"
        "truth = sim.state()['servers']\n"
        "assert [truth[s.id]['reinstalls_accepted'] for s in fleet] == [1] * len(fleet)\n"
        "assert summary2.counts == {'SUCCESS': len(fleet) - 1} and len(fleet) >= 3",
    ),
}


def inject(nb: nbformat.NotebookNode, values: dict[str, object]) -> None:
    """Append overrides after the cell tagged ``parameters``, as papermill does."""
    for index, cell in enumerate(nb.cells):
        if "parameters" in cell.metadata.get("tags", []):
            source = "\n".join(f"{k} = {v!r}" for k, v in values.items())
            injected = nbformat.v4.new_code_cell(source)
            injected.metadata["tags"] = ["injected-parameters"]
            nb.cells.insert(index + 1, injected)
            return
    raise AssertionError("no cell tagged 'parameters'")


def test_every_runbook_has_a_case() -> None:
    assert [p.name for p in NOTEBOOKS] == sorted(CASES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_has_no_outputs_or_widget_state(path: Path) -> None:
    nb = json.loads(path.read_text())
    assert "widgets" not in nb["metadata"]
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_runbook_runs_headless_to_the_expected_end(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values, check = CASES[path.name]
    shutil.copy(path, tmp_path / path.name)
    nb = nbformat.read(tmp_path / path.name, as_version=4)
    inject(nb, values)
    nb.cells.append(
        nbformat.v4.new_code_cell("from pathlib import Path\n" + check + "\nprint('RUNBOOK-OK')")
    )
    for name in list(os.environ):
        if name.startswith(("HUAWEICLOUD_", "ECS_NOTEBOOK_")):
            monkeypatch.delenv(name)  # the runbooks must pick the simulator
    client = NotebookClient(
        nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("RUNBOOK-OK" in o.get("text", "") for o in outputs)
