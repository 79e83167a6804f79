"""Packaging facts users rely on: typed, the console script, and no ipykernel 7.0.x."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import ecs_notebook
from ecs_notebook.widgets import _kernel_check


def _requirement(name: str) -> Requirement:
    for line in metadata.requires("ecs-notebook") or []:
        req = Requirement(line)
        if req.name == name and req.marker is None:
            return req
    raise AssertionError(f"{name} is not a dependency")


@pytest.mark.parametrize("version", ["7.0.0", "7.0.1", "7.0.9"])
def test_ipykernel_7_0_is_excluded(version: str) -> None:
    assert version not in _requirement("ipykernel").specifier


@pytest.mark.parametrize("version", ["6.29.5", "7.1.0", "7.4.0"])
def test_working_ipykernels_are_allowed(version: str) -> None:
    assert version in _requirement("ipykernel").specifier


def test_a_broken_kernel_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_kernel_check, "_installed", lambda: "7.0.1")
    with pytest.warns(RuntimeWarning, match=r"ipykernel 7\.0\.1"):
        _kernel_check.check_ipykernel()
    monkeypatch.setattr(_kernel_check, "_installed", lambda: "7.4.0")
    _kernel_check.check_ipykernel()  # no warning (warnings are errors here)


def test_package_is_typed_and_has_its_command() -> None:
    assert (Path(ecs_notebook.__file__).parent / "py.typed").exists()
    scripts = {e.name: e.value for e in metadata.entry_points(group="console_scripts")}
    assert scripts["ecs-notebook"] == "ecs_notebook.cli:main"


EXPORTED = [
    "EcsClient",
    "FleetRun",
    "RateLimiter",
    "ReinstallRequest",
    "Rollout",
    "Secret",
    "ServerFilter",
    "Simulator",
    "SyncEcsClient",
    "UserData",
    "ValidationError",
    "__version__",
    "preview",
]


def test_exported_names_resolve_and_do_not_drift() -> None:
    assert sorted(ecs_notebook.__all__) == sorted(EXPORTED)
    for name in ecs_notebook.__all__:
        assert getattr(ecs_notebook, name) is not None
