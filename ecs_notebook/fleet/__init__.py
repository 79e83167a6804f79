"""The engine: job book, journal, poller, fleet submitter and staged rollouts. No widgets."""

from .book import BookChange, JobBook, read_csv
from .health import Health, check_health
from .journal import Journal, replay
from .poller import Poller, PollSchedule
from .records import FINAL_STATUSES, STATUSES, JobRecord
from .rollout import Rollout, RolloutError
from .rollout_state import RolloutState
from .run import FleetRun, Summary
from .selection import (
    ConfirmationError,
    ConfirmedPlan,
    Plan,
    ServerFilter,
    Skip,
    preflight,
    select,
    servers_frame,
)
from .submitter import FleetSubmitter, Progress

__all__ = [
    "FINAL_STATUSES",
    "STATUSES",
    "BookChange",
    "ConfirmationError",
    "ConfirmedPlan",
    "FleetRun",
    "FleetSubmitter",
    "Health",
    "JobBook",
    "JobRecord",
    "Journal",
    "Plan",
    "PollSchedule",
    "Poller",
    "Progress",
    "Rollout",
    "RolloutError",
    "RolloutState",
    "ServerFilter",
    "Skip",
    "Summary",
    "check_health",
    "preflight",
    "read_csv",
    "replay",
    "select",
    "servers_frame",
]
