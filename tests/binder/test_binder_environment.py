"""Binder: the environment repo2docker builds from binder/ alone runs every runbook headless.

Docker is not available here, so the same steps run in a fresh virtual environment:
``pip install -r binder/requirements.txt``, ``binder/postBuild`` from the repository root,
then each notebook through ``binder/start jupyter execute``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
pytestmark = pytest.mark.slow


@pytest.mark.timeout(900)
def test_binder_environment_runs_every_runbook(tmp_path: Path) -> None:
    assert (
        BINDER / "runtime.txt"
    ).read_text().strip() == f"python-{sys.version_info.major}.{sys.version_info.minor}"
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
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
