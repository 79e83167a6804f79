"""Jupyter widgets: thin views over the request model, the client and the fleet engine.

``console(client)`` (or ``simulator_console()``) assembles everything; each piece works on
its own too. No business rule lives here: validation is ``ReinstallRequest.validate``,
selection and pre-flight are ``ecs_notebook.fleet``; widgets hold display state only, and
the admin password never enters synced widget state.
"""

from ._kernel_check import check_ipykernel
from ._secret_input import SecretInput
from .confirm import ConfirmPanel
from .console import Console, console, simulator_client, simulator_console
from .form import ReinstallForm
from .outcome import OutcomePanel
from .picker import FleetPicker
from .picture import FleetPicture
from .preview import PreviewPane
from .rollout import RolloutPanel
from .table import JobTable
from .target import Target, connect_target

__all__ = [
    "ConfirmPanel",
    "Console",
    "FleetPicker",
    "FleetPicture",
    "JobTable",
    "OutcomePanel",
    "PreviewPane",
    "ReinstallForm",
    "RolloutPanel",
    "SecretInput",
    "Target",
    "connect_target",
    "console",
    "simulator_client",
    "simulator_console",
]

check_ipykernel()
