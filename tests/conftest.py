"""Test-wide set-up: a private HOME so no test reads real credentials or writes to ~."""

from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    home = tempfile.mkdtemp(prefix="ecs-notebook-home-")
    os.environ["HOME"] = home
    for name in list(os.environ):
        if name.startswith(("HUAWEICLOUD_", "ECS_NOTEBOOK_")):
            del os.environ[name]
