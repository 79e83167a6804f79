"""Where a runbook sends its requests, said plainly at the top: the simulator or the cloud.

A runbook runs against the built-in simulator unless credentials are in the environment
(the official SDK's ``HUAWEICLOUD_SDK_*`` variables or ``ECS_NOTEBOOK_IAM_*``);
``ECS_NOTEBOOK_TARGET=simulator`` or ``=cloud`` overrides that choice.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import ipywidgets as widgets

from ..auth import from_environment
from ..client import SyncEcsClient
from ..errors import ConfigurationError
from ..regions import ENV_REGION
from ..simulator import Simulator
from ..simulator.models import CLOUD_JOB_SECONDS
from .console import DEMO_SCHEDULE, Console, console, simulator_client
from .styles import esc

ENV_TARGET: Final = "ECS_NOTEBOOK_TARGET"


@dataclass
class Target:
    """A client and what it talks to (``simulator`` is ``None`` for the real cloud)."""

    client: SyncEcsClient
    simulator: Simulator | None
    region: str
    project_id: str

    @property
    def is_simulator(self) -> bool:
        """True when requests go to the built-in simulator."""
        return self.simulator is not None

    @property
    def label(self) -> str:
        """``SIMULATOR`` or ``REAL CLOUD: <region>, project <id>``."""
        if self.simulator is not None:
            return "SIMULATOR"
        return f"REAL CLOUD: {self.region}, project {self.project_id}"

    def console(self, **options: Any) -> Console:
        """The whole console for this target (quick polling on the simulator)."""
        if self.simulator is not None:
            options.setdefault("schedule", DEMO_SCHEDULE)
        ui = console(self.client, region=self.region, **options)
        ui.simulator = self.simulator
        return ui

    def banner(self) -> Any:
        """A banner widget that nobody can mistake: green for the simulator, red for the cloud."""
        if self.simulator is not None:
            colour = "#1b5e20"
            note = (
                "no cloud account is used; nothing real is reinstalled. "
                + reinstall_duration_note(self.simulator)
            )
        else:
            colour, note = "#b71c1c", "requests reinstall REAL servers and wipe their system disks"
        html = (
            f'<div style="background:{colour};color:white;padding:8px 14px;border-radius:4px;">'
            f'<b style="font-size:1.3em;">{esc(self.label)}</b>'
            f"<br><span>{esc(note)}</span></div>"
        )
        return widgets.HTML(html).add_class("ecs-target-banner")


def reinstall_duration_note(sim: Simulator) -> str:
    """How long a reinstall takes here, and in the cloud (runbooks shorten it for teaching)."""
    cloud = CLOUD_JOB_SECONDS / 60
    return (
        f"A reinstall takes about {sim.model.job_seconds:g} s here; "
        f"in the cloud it takes minutes (about {cloud:.1f} min)."
    )


def connect_target(
    *,
    servers: int = 50,
    seed: int = 1,
    job_seconds: float = 8.0,
    region: str | None = None,
    env: Mapping[str, str] | None = None,
    **simulator_options: Any,
) -> Target:
    """The cloud when credentials are in the environment, else a fresh in-process simulator.

    ``job_seconds`` is the simulator's short teaching duration (a reinstall in the cloud
    takes minutes; the banner says both).
    """
    env = os.environ if env is None else env
    choice = env.get(ENV_TARGET, "").strip().lower()
    if choice not in ("", "simulator", "cloud"):
        raise ConfigurationError(f"{ENV_TARGET} must be 'simulator' or 'cloud', not {choice!r}")
    use_cloud = choice == "cloud" or (choice == "" and from_environment(env) is not None)
    if use_cloud:
        region = region or env.get(ENV_REGION) or None
        client = SyncEcsClient.connect(region, env=env)
        return Target(client, None, client.aio.region, client.project_id())
    sim = Simulator(servers=servers, seed=seed, job_seconds=job_seconds, **simulator_options)
    return Target(simulator_client(sim), sim, sim.region, sim.project_id)
