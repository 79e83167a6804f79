"""Fixtures for the widget tests: a comm recorder in place of the browser, a small simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.sim import client_for

from ecs_notebook.client import SyncEcsClient
from ecs_notebook.simulator import Simulator
from ecs_notebook.widgets.testing import CommRecorder


@pytest.fixture(autouse=True)
def recorder() -> Iterator[CommRecorder]:
    """Every widget created in a test sends to this recorder instead of a kernel."""
    with CommRecorder() as rec:
        yield rec


@pytest.fixture
def sim() -> Simulator:
    return Simulator(servers=12, seed=7, job_seconds=0.6, job_jitter=0.3)


@pytest.fixture
def client(sim: Simulator) -> SyncEcsClient:
    return SyncEcsClient(client_for(sim))
