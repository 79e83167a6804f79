"""The one rule for a row's status: which moves are allowed, used by everything that moves one.

The submitter, the poller and journal replay all go through :func:`allowed`, so a line
repeated, reordered or replayed twice can never move a row backwards. The only way back
to ``PLANNED`` is an explicit "send again" (a POST provably not processed, a transient
refusal, or an intent withdrawn before sending), and it always carries the attempt number,
or a ``HELD`` row released by ``proceed`` after a halt.

Staged runs: a job's ``SUCCESS`` is first ``VERIFYING`` (the health check), then ``SUCCESS``
or ``UNHEALTHY``; a row still ``PLANNED`` when a run ends halted becomes ``HELD``.
"""

from __future__ import annotations

from typing import Final

from .records import (
    CHANGED,
    FAIL,
    FINAL_STATUSES,
    HELD,
    INIT,
    NOT_SENT,
    PENDING_PAYMENT,
    PLANNED,
    REFUSED,
    RUNNING,
    SKIPPED,
    SUBMITTING,
    SUCCESS,
    UNCONFIRMED,
    UNHEALTHY,
    UNKNOWN,
    VERIFYING,
)

_JOB_FINAL: Final = frozenset({SUCCESS, FAIL, VERIFYING})
_JOB_LIVE: Final = frozenset({INIT, RUNNING, PENDING_PAYMENT})

#: status -> the statuses it may move to (job statuses the API may add are handled below).
TABLE: Final[dict[str, frozenset[str]]] = {
    PLANNED: frozenset({SUBMITTING, NOT_SENT, CHANGED, HELD}),
    SUBMITTING: frozenset({PLANNED, UNKNOWN, REFUSED, NOT_SENT, *_JOB_LIVE, *_JOB_FINAL}),
    UNKNOWN: frozenset({PLANNED, RUNNING, UNCONFIRMED, NOT_SENT, *_JOB_FINAL}),
    INIT: frozenset({RUNNING, PENDING_PAYMENT, *_JOB_FINAL}),
    RUNNING: frozenset({PENDING_PAYMENT, *_JOB_FINAL}),
    PENDING_PAYMENT: frozenset({RUNNING, *_JOB_FINAL}),
    VERIFYING: frozenset({SUCCESS, UNHEALTHY}),
    **{status: frozenset() for status in FINAL_STATUSES},
    HELD: frozenset({PLANNED}),
}
#: Statuses a row is created in.
INITIAL: Final = frozenset({PLANNED, SKIPPED})


class TransitionError(ValueError):
    """A move the table does not allow (a bug, or a journal line out of order)."""


def allowed(current: str, new: str) -> bool:
    """True if a row in ``current`` may move to ``new`` (staying put is always allowed)."""
    if current == new:
        return True
    targets = TABLE.get(current)
    if new not in TABLE:
        # A job status this version does not know: reached only from a live submission or job.
        return current in (SUBMITTING, UNKNOWN) or current in _JOB_LIVE or targets is None
    if targets is not None:
        return new in targets
    return new in _JOB_LIVE or new in _JOB_FINAL


def check(current: str, new: str, key: str = "") -> None:
    """Raise :class:`TransitionError` unless ``current -> new`` is allowed."""
    if not allowed(current, new):
        row = f"row {key}: " if key else ""
        raise TransitionError(f"{row}{current} cannot move to {new}")
