"""The engine: job book, journal, poller and fleet submitter. No widgets."""

from .book import BookChange, JobBook, read_csv
from .journal import Journal, replay
from .poller import Poller, PollSchedule
from .records import FINAL_STATUSES, STATUSES, JobRecord
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
    "JobBook",
    "JobRecord",
    "Journal",
    "Plan",
    "PollSchedule",
    "Poller",
    "Progress",
    "ServerFilter",
    "Skip",
    "Summary",
    "preflight",
    "read_csv",
    "replay",
    "select",
    "servers_frame",
]
