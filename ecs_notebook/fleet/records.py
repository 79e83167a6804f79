"""One row of the job book: a reinstall of one server, from plan to final job status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

# Submission states, before a job id is known or when none will be.
PLANNED: Final = "PLANNED"  # selected and confirmed, not sent yet
SUBMITTING: Final = "SUBMITTING"  # written to the journal, POST under way
UNKNOWN: Final = "UNKNOWN"  # POST sent, answer lost: being resolved from the server
REFUSED: Final = "REFUSED"  # the API refused the POST (nothing started)
NOT_SENT: Final = "NOT_SENT"  # cancelled, or unknown outcome resolved as "not accepted"
SKIPPED: Final = "SKIPPED"  # left out by the pre-flight check
UNCONFIRMED: Final = "UNCONFIRMED"  # answer lost; server changed since, no reinstall seen
# Job states, as the job API reports them.
INIT: Final = "INIT"
RUNNING: Final = "RUNNING"
PENDING_PAYMENT: Final = "PENDING_PAYMENT"
SUCCESS: Final = "SUCCESS"
FAIL: Final = "FAIL"

STATUSES: Final = (
    PLANNED,
    SUBMITTING,
    UNKNOWN,
    INIT,
    RUNNING,
    PENDING_PAYMENT,
    SUCCESS,
    FAIL,
    REFUSED,
    NOT_SENT,
    UNCONFIRMED,
    SKIPPED,
)
#: States after which nothing more will happen to the row.
FINAL_STATUSES: Final = frozenset({SUCCESS, FAIL, REFUSED, NOT_SENT, UNCONFIRMED, SKIPPED})


@dataclass
class JobRecord:
    """The live state of one reinstall. Mutated only by the book's owner (poller, submitter)."""

    key: str
    server_id: str
    server_name: str = ""
    status: str = PLANNED
    job_id: str | None = None
    submitted: datetime | None = None
    begin_time: datetime | None = None
    end_time: datetime | None = None
    error_code: str | None = None
    fail_reason: str | None = None
    messages: tuple[str, ...] = ()
    attempts: int = 0
    polls: int = 0
    last_polled: datetime | None = None
    last_error: str | None = None
    note: str | None = None
    extra: dict[str, object] = field(default_factory=dict, repr=False)

    @property
    def finished(self) -> bool:
        """True once nothing more will happen to this reinstall."""
        return self.status in FINAL_STATUSES

    @property
    def tracked(self) -> bool:
        """True while the poller should watch it (a job or an unknown outcome)."""
        # Unknown job statuses (not final, not before sending) are tracked too.
        return self.status not in FINAL_STATUSES and self.status not in (PLANNED, SUBMITTING)
