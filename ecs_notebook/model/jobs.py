"""Jobs (``GET /v1/{project_id}/jobs/{job_id}``) as typed values; unknown statuses are kept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final

SUCCESS: Final = "SUCCESS"
FAIL: Final = "FAIL"
RUNNING: Final = "RUNNING"
INIT: Final = "INIT"
PENDING_PAYMENT: Final = "PENDING_PAYMENT"
TERMINAL_STATUSES: Final = frozenset({SUCCESS, FAIL})
KNOWN_STATUSES: Final = (INIT, RUNNING, PENDING_PAYMENT, SUCCESS, FAIL)


def parse_time(value: Any) -> datetime | None:
    """Parse the API's ISO-8601 times (``Z`` and fraction optional) as UTC; blanks are ``None``."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class SubJob:
    """One sub-job of a job, with its own status and failure cause."""

    job_id: str
    status: str
    job_type: str | None = None
    begin_time: datetime | None = None
    end_time: datetime | None = None
    error_code: str | None = None
    fail_reason: str | None = None
    server_id: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Job:
    """A job's state; ``status`` is kept raw, so ``PENDING_PAYMENT`` or a new value stays as is."""

    job_id: str
    status: str
    job_type: str | None = None
    begin_time: datetime | None = None
    end_time: datetime | None = None
    error_code: str | None = None
    fail_reason: str | None = None
    server_id: str | None = None
    sub_jobs: tuple[SubJob, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def finished(self) -> bool:
        """True once the job is ``SUCCESS`` or ``FAIL``; unknown statuses count as running."""
        return self.status in TERMINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        """True when the job ended in ``SUCCESS``."""
        return self.status == SUCCESS

    @property
    def messages(self) -> tuple[str, ...]:
        """Every failure text the job and its sub-jobs carry, for display."""
        found = [self.fail_reason] if self.fail_reason else []
        for sub in self.sub_jobs:
            found += [m for m in (sub.fail_reason, sub.message) if m]
        return tuple(dict.fromkeys(found))

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> Job:
        """Build a job from the API's JSON, tolerating missing and null fields."""
        entities = payload.get("entities") or {}
        subs = []
        for item in entities.get("sub_jobs") or ():
            if not isinstance(item, Mapping):
                continue
            sub_entities = item.get("entities") or {}
            subs.append(
                SubJob(
                    job_id=str(item.get("job_id") or ""),
                    status=str(item.get("status") or ""),
                    job_type=_str_or_none(item.get("job_type")),
                    begin_time=parse_time(item.get("begin_time")),
                    end_time=parse_time(item.get("end_time")),
                    error_code=_str_or_none(item.get("error_code")),
                    fail_reason=_str_or_none(item.get("fail_reason")),
                    server_id=_str_or_none(sub_entities.get("server_id")),
                    message=_str_or_none(sub_entities.get("errorcode_message")),
                )
            )
        server_id = _str_or_none(entities.get("server_id"))
        if server_id is None and subs:
            server_id = subs[0].server_id
        return cls(
            job_id=str(payload.get("job_id") or ""),
            status=str(payload.get("status") or "UNKNOWN"),
            job_type=_str_or_none(payload.get("job_type")),
            begin_time=parse_time(payload.get("begin_time")),
            end_time=parse_time(payload.get("end_time")),
            error_code=_str_or_none(payload.get("error_code")),
            fail_reason=_str_or_none(payload.get("fail_reason")),
            server_id=server_id,
            sub_jobs=tuple(subs),
            raw=dict(payload),
        )
