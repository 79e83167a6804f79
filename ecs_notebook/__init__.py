"""ecs-notebook: compose, preview, submit and track Huawei Cloud ECS OS reinstalls from Jupyter.

The main names are importable from here; they load on first use, so ``import ecs_notebook``
stays cheap (the fleet engine brings in pandas). The widgets live in ``ecs_notebook.widgets``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "ReinstallRequest": "ecs_notebook.model",
    "UserData": "ecs_notebook.model",
    "ValidationError": "ecs_notebook.model",
    "preview": "ecs_notebook.model",
    "Secret": "ecs_notebook.secrets",
    "EcsClient": "ecs_notebook.client",
    "SyncEcsClient": "ecs_notebook.client",
    "RateLimiter": "ecs_notebook.client",
    "FleetRun": "ecs_notebook.fleet",
    "Rollout": "ecs_notebook.fleet",
    "ServerFilter": "ecs_notebook.fleet",
    "Simulator": "ecs_notebook.simulator",
}

__all__ = [
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

if TYPE_CHECKING:
    from .client import EcsClient, RateLimiter, SyncEcsClient
    from .fleet import FleetRun, Rollout, ServerFilter
    from .model import ReinstallRequest, UserData, ValidationError, preview
    from .secrets import Secret
    from .simulator import Simulator


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ecs_notebook' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
