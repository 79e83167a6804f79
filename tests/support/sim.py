"""Helpers shared by tests that drive the simulator: clients, requests, fast polling."""

from __future__ import annotations

from ecs_notebook.auth import AkSkAuth, AkSkCredentials
from ecs_notebook.client import EcsClient, RetryPolicy
from ecs_notebook.fleet import PollSchedule
from ecs_notebook.model import ReinstallRequest
from ecs_notebook.simulator import Simulator

FAST = PollSchedule(
    first=0.2,
    near_interval=0.15,
    learning_cap=0.4,
    max_interval=1.0,
    unknown_interval=0.1,
    unknown_grace=0.5,
)


def client_for(sim: Simulator, base_url: str | None = None, **options: object) -> EcsClient:
    """An EcsClient that signs with the simulator's AK/SK (in process unless ``base_url``)."""
    creds = AkSkCredentials(sim.access_key, sim.secret_key, project_id=sim.project_id)
    options.setdefault("retry", RetryPolicy(attempts=6, base_delay=0.01, max_delay=0.2))
    return EcsClient(
        endpoint=base_url or sim.endpoint,
        auth=AkSkAuth(creds),
        project_id=sim.project_id,
        transport=None if base_url else sim.transport(),
        **options,  # type: ignore[arg-type]
    )


def keypair_request(sim: Simulator) -> ReinstallRequest:
    """A valid request for the simulator's own key pair."""
    return ReinstallRequest(keyname=sim.keypair_name, userid=sim.user_id, mode="withStopServer")
