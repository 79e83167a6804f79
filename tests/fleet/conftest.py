"""Fixtures for the engine's tests: a small, fast simulator."""

from __future__ import annotations

import pytest

from ecs_notebook.simulator import Simulator


@pytest.fixture
def sim() -> Simulator:
    return Simulator(servers=12, seed=7, job_seconds=0.6, job_jitter=0.3)
