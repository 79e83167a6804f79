"""A real JupyterLab on loopback and Debian's Chromium driven by Playwright.

The recipe measured on these machines (shared/reference/browser-testing.md): isolated
Jupyter directories, the news toast disabled, kernels deleted around each test, "Run All"
through the menu once the kernel reads Idle, and a screenshot of every step kept as an
artifact (``artifacts/browser/``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.lab import Lab

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path(os.environ.get("ECS_NOTEBOOK_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _isolated_env(base: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        path = base / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    labconfig = base / "jupyter_config_dir" / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    # Save widget state with the notebook, so the test can prove no secret is in it.
    manager = base / "jupyter_config_dir" / "lab" / "user-settings" / "@jupyter-widgets"
    manager = manager / "jupyterlab-manager"
    manager.mkdir(parents=True, exist_ok=True)
    (manager / "plugin.jupyterlab-settings").write_text(json.dumps({"saveState": True}))
    # The runbooks use the built-in simulator; no cloud credentials in the browser tests.
    for name in list(env):
        if name.startswith(("HUAWEICLOUD_", "ECS_NOTEBOOK_")):
            del env[name]
    return env


@contextmanager
def _server(
    name: str, command: list[str], base: Path, ready: str, headers: dict[str, str]
) -> Iterator[None]:
    """Run ``command`` in its own process group until ``ready`` answers 200; stop it after."""
    root = base / "root"
    log = (base / f"{name}.log").open("w")
    process = subprocess.Popen(
        command, env=_isolated_env(base), cwd=root, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(ready, headers=headers, timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                text = (base / f"{name}.log").read_text()[-3000:]
                raise RuntimeError(f"{name} did not start:\n{text}")
            time.sleep(0.2)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        log.close()


def _copy_notebooks(factory: pytest.TempPathFactory, name: str) -> Path:
    base = factory.mktemp(name)
    shutil.copytree(ROOT / "notebooks", base / "root")
    return base


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab serving a copy of notebooks/ (never the repo's own files)."""
    base = _copy_notebooks(tmp_path_factory, "lab")
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", "--allow-root",
        f"--ServerApp.root_dir={base / 'root'}",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"token {token}"}
    with _server("jupyterlab", command, base, f"{url}/api/status", auth):
        yield Lab(url, token, base / "root", _isolated_env(base))


@pytest.fixture(scope="session")
def voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Voila serving a copy of notebooks/; readiness probed on voila.js, not on /."""
    base = _copy_notebooks(tmp_path_factory, "voila")
    port = _free_port()
    command = [
        sys.executable, "-m", "voila", "--no-browser", f"--port={port}",
        "--Voila.ip=127.0.0.1", str(base / "root"),
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with _server("voila", command, base, f"{url}/voila/static/voila.js", {}):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, per test module: Playwright's sync API holds an event loop on this thread,
    which must be gone before the asyncio tests of other folders run."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: scripts/test.sh installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with playwright_sync.sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield instance
        instance.close()


class Shots:
    """Numbered screenshots of one test's steps, kept under artifacts/browser/."""

    def __init__(self, page: Any, name: str) -> None:
        self.page = page
        self.folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page(browser: Any, lab: Lab, request: pytest.FixtureRequest) -> Iterator[Any]:
    lab.reset_kernels()
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.shots = Shots(page, request.node.name)
    yield page
    if getattr(request.node, "failed", False):
        page.shots("failure")
    context.close()
    lab.reset_kernels()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item.failed = True  # type: ignore[attr-defined]
