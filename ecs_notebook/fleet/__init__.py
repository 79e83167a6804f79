"""The engine: job book, journal, poller, fleet submitter, the run lifecycle and staged rollouts.

No widgets."""

from .binding import PasswordMismatchError, PasswordRequiredError, TargetMismatchError
from .book import BookChange, JobBook, read_csv
from .health import Health, check_health
from .journal import Journal, JournalDamagedError, replay
from .lifecycle import (
    EXIT_CODES,
    JournalExistsError,
    RunInProgressError,
    RunRefusedError,
    RunStartedError,
    check_new_journal,
    check_no_run_in_progress,
    new_journal_path,
    resume_command,
)
from .lock import JournalInUseError, JournalLock
from .poller import Poller, PollSchedule
from .records import FINAL_STATUSES, NOT_REINSTALLED, STATUSES, JobRecord, Observation
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
from .submitter import FleetSubmitter, Progress, SubmitPolicy
from .transitions import TransitionError, allowed

__all__ = [
    "EXIT_CODES",
    "FINAL_STATUSES",
    "NOT_REINSTALLED",
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
    "JournalDamagedError",
    "JournalExistsError",
    "JournalInUseError",
    "JournalLock",
    "Observation",
    "PasswordMismatchError",
    "PasswordRequiredError",
    "Plan",
    "PollSchedule",
    "Poller",
    "Progress",
    "Rollout",
    "RolloutError",
    "RolloutState",
    "RunInProgressError",
    "RunRefusedError",
    "RunStartedError",
    "ServerFilter",
    "Skip",
    "SubmitPolicy",
    "Summary",
    "TargetMismatchError",
    "TransitionError",
    "allowed",
    "check_health",
    "check_new_journal",
    "check_no_run_in_progress",
    "new_journal_path",
    "preflight",
    "read_csv",
    "replay",
    "resume_command",
    "select",
    "servers_frame",
]
