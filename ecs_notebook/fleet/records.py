"""One row of the job book: a reinstall of one server, from plan to final job status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from ..model.servers import Server

# Submission states, before a job id is known or when none will be.
PLANNED: Final = "PLANNED"  # selected and confirmed, not sent yet
SUBMITTING: Final = "SUBMITTING"  # written to the journal, POST under way
UNKNOWN: Final = "UNKNOWN"  # POST sent, answer lost: being resolved from the server
REFUSED: Final = "REFUSED"  # the API refused the POST (nothing started)
NOT_SENT: Final = "NOT_SENT"  # cancelled, or unknown outcome resolved as "not accepted"
SKIPPED: Final = "SKIPPED"  # left out by the pre-flight check
UNCONFIRMED: Final = "UNCONFIRMED"  # answer lost; server changed since, no reinstall seen
CHANGED: Final = "CHANGED"  # not sent on resume: the server changed since the plan saw it
# Staged-rollout states (issue 10).
VERIFYING: Final = "VERIFYING"  # job SUCCESS, health check under way
UNHEALTHY: Final = "UNHEALTHY"  # job SUCCESS, but the server did not come back as it should
HELD: Final = "HELD"  # not sent because the run halted (the error budget was passed)
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
    VERIFYING,
    SUCCESS,
    FAIL,
    UNHEALTHY,
    REFUSED,
    NOT_SENT,
    UNCONFIRMED,
    CHANGED,
    HELD,
    SKIPPED,
)
#: States after which nothing more will happen to the row.
FINAL_STATUSES: Final = frozenset(
    {SUCCESS, FAIL, UNHEALTHY, REFUSED, NOT_SENT, UNCONFIRMED, CHANGED, HELD, SKIPPED}
)
#: Final states that mean "this server was not reinstalled" (each listed with its reason).
NOT_REINSTALLED: Final = FINAL_STATUSES - {SUCCESS}


@dataclass(frozen=True)
class Observation:
    """What the API itself reported about a server at one moment: the values that tell
    whether anything happened to it since (never compared with the local clock)."""

    updated: str | None
    status: str
    task_state: str | None = None

    @classmethod
    def of(cls, server: Server) -> Observation:
        """The observation of a server as listed or read."""
        updated = server.updated.isoformat() if server.updated is not None else None
        return cls(updated, server.status, server.task_state)

    @classmethod
    def from_json(cls, data: object) -> Observation | None:
        """Read back :meth:`to_json` (``None`` when absent or malformed)."""
        if not isinstance(data, dict) or not isinstance(data.get("status"), str):
            return None
        return cls(data.get("updated"), data["status"], data.get("task_state"))

    def to_json(self) -> dict[str, str | None]:
        """For the journal."""
        return {"updated": self.updated, "status": self.status, "task_state": self.task_state}

    def changes(self, now: Observation) -> list[str]:
        """What differs in ``now`` (empty: unchanged and idle)."""
        found = []
        if now.updated != self.updated:
            found.append(f"updated {self.updated} -> {now.updated}")
        if now.status != self.status:
            found.append(f"status {self.status} -> {now.status}")
        if now.task_state:
            found.append(f"task state {now.task_state}")
        return found


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
    #: The server as last seen before the latest POST (plan, or the look that judged
    #: the previous POST not processed): what a lost answer is resolved against.
    observed: Observation | None = None
    #: True once a POST of this row went unanswered (a later "busy" may be that POST).
    unanswered: bool = False
    extra: dict[str, object] = field(default_factory=dict, repr=False)

    @property
    def finished(self) -> bool:
        """True once nothing more will happen to this reinstall."""
        return self.status in FINAL_STATUSES

    @property
    def tracked(self) -> bool:
        """True while the poller should watch it (a job or an unknown outcome)."""
        # Unknown job statuses (not final, not before sending) are tracked too. A row being
        # verified is watched by its health check, not polled as a job.
        return self.status not in FINAL_STATUSES and self.status not in (
            PLANNED,
            SUBMITTING,
            VERIFYING,
        )
