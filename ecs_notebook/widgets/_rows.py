"""Rows of the job table: a light copy of each book record, its filters, sorts and HTML."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple

from ..fleet.records import FINAL_STATUSES, STATUSES, SUCCESS, JobRecord
from .styles import esc, status_class

REASON_CHARS: Final = 160


class Row(NamedTuple):
    """What the table shows of one book record."""

    key: str
    position: int  # in the book (the "added" order)
    server_name: str
    server_id: str
    status: str
    job_id: str | None
    error_code: str | None
    reason: str | None
    submitted: datetime | None
    duration: float | None  # seconds
    haystack: str  # lower-cased text the search box looks in

    @classmethod
    def of(cls, r: JobRecord, index: int) -> Row:
        """A row from a record at ``index`` in the book."""
        final = r.status in FINAL_STATUSES
        reason = r.fail_reason or r.note or (None if final else r.last_error)
        duration = (
            (r.end_time - r.begin_time).total_seconds()
            if r.end_time is not None and r.begin_time is not None
            else None
        )
        fields = (r.server_name, r.server_id, r.job_id, r.error_code, reason, r.status)
        return cls(
            r.key,
            index,
            r.server_name,
            r.server_id,
            r.status,
            r.job_id,
            r.error_code,
            reason,
            r.submitted,
            duration,
            "\x00".join(f for f in fields if f).lower(),
        )


_RANK: Final = {s: i for i, s in enumerate(STATUSES)}
_NOT_REINSTALLED: Final = FINAL_STATUSES - {SUCCESS}


def _status_is(status: str) -> Callable[[Row], bool]:
    return lambda r: r.status == status


#: Row filters by name: ``all``, ``unfinished``, ``not reinstalled`` and one per status.
FILTERS: Final[dict[str, Callable[[Row], bool]]] = {
    "all": lambda r: True,
    "unfinished": lambda r: r.status not in FINAL_STATUSES,
    "not reinstalled": lambda r: r.status in _NOT_REINSTALLED,
    **{s: _status_is(s) for s in STATUSES},
}

#: Sort keys by name (``None``: the book's order); rows whose key is ``None`` go last.
SORTS: Final[dict[str, Callable[[Row], Any] | None]] = {
    "added": None,
    "status": lambda r: _RANK.get(r.status, len(_RANK)),
    "server name": lambda r: r.server_name,
    "error code": lambda r: r.error_code,
    "submitted": lambda r: r.submitted,
    "duration": lambda r: r.duration,
}

_HEAD: Final = (
    "<thead><tr><th>#</th><th>server</th><th>server id</th><th>status</th><th>job id</th>"
    "<th>error</th><th>reason</th><th>submitted</th><th>duration</th></tr></thead>"
)


def _reason(text: str | None) -> str:
    if not text:
        return ""
    if len(text) <= REASON_CHARS:
        return esc(text)
    return f'<span title="{esc(text)}">{esc(text[:REASON_CHARS])}…</span>'


def render_row(row: Row, number: int) -> str:
    """One ``<tr>``."""
    submitted = row.submitted.strftime("%H:%M:%S") if row.submitted else ""
    duration = f"{row.duration:.1f} s" if row.duration is not None else ""
    return (
        f'<tr class="{status_class(row.status)}"><td>{number}</td><td>{esc(row.server_name)}</td>'
        f'<td class="m">{esc(row.server_id)}</td><td><b class="ecs-st">{esc(row.status)}</b></td>'
        f'<td class="m">{esc(row.job_id)}</td><td>{esc(row.error_code)}</td>'
        f'<td class="r">{_reason(row.reason)}</td><td>{submitted}</td><td>{duration}</td></tr>'
    )


def render_page(rows: Sequence[Row], start: int) -> str:
    """The page's ``<table>`` (``start``: the 0-based position of its first row)."""
    if not rows:
        return '<span class="ecs-info">no rows</span>'
    body = "".join(render_row(r, start + i + 1) for i, r in enumerate(rows))
    return f'<table class="ecs-jt">{_HEAD}<tbody>{body}</tbody></table>'


def render_counts(counts: Mapping[str, int]) -> str:
    """A coloured chip per status with rows, and the total."""
    total = sum(counts.values())
    chips = "".join(
        f'<span class="ecs-chip {status_class(s)}">{esc(s)} {n:,}</span>'
        for s, n in counts.items()
        if n
    )
    return f"{chips}<b>{total:,} rows</b>"
