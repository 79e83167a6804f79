"""Binder: the environment repo2docker builds from binder/ alone runs every runbook headless.

Docker is not available here, so the same steps run in a fresh virtual environment of the
Python version ``binder/runtime.txt`` names (whichever interpreter runs this test):
``pip install -r binder/requirements.txt``, ``binder/postBuild`` from the repository root,
then each notebook through ``binder/start jupyter execute``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
pytestmark = pytest.mark.slow


def binder_python(version: str) -> str:
    """The interpreter Binder would use (runtime.txt's version), as scripts/test.sh finds one."""
    script = f'source scripts/_python.sh && find_python "{version}"'
    found = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert found.returncode == 0, f"Python {version} (binder/runtime.txt) is not installed"
    return found.stdout.strip()


@pytest.mark.timeout(900)
def test_binder_environment_runs_every_runbook(tmp_path: Path) -> None:
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert runtime.startswith("python-3."), runtime
    python = binder_python(runtime.removeprefix("python-"))
    env_dir = tmp_path / "env"
    subprocess.run([python, "-m", "venv", str(env_dir)], check=True, timeout=300)
    bin_dir = env_dir / "bin"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(env_dir),
    }
    env.pop("PYTHONPATH", None)
    for name in list(env):
        if name.startswith(("HUAWEICLOUD_", "ECS_NOTEBOOK_")):
            del env[name]

    def run(*command: str, cwd: Path = ROOT) -> None:
        result = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, (
            f"{command}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        )

    run(
        str(bin_dir / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "-r",
        str(BINDER / "requirements.txt"),
    )
    run("bash", str(BINDER / "postBuild"))
    work = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", work)
    for notebook in sorted(work.glob("*.ipynb")):
        run(
            str(BINDER / "start"),
            str(bin_dir / "jupyter"),
            "execute",
            "--timeout=300",
            notebook.name,
            cwd=work,
        )
