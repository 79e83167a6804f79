"""``GET /v1/{project_id}/cloudservers/detail``: filters and page-number paging (contract 4.1)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from .exceptions import invalid
from .resources import Server

DEFAULT_LIMIT: Final = 25
MAX_LIMIT: Final = 1000
STATUSES: Final = frozenset(
    {
        "ACTIVE", "BUILD", "ERROR", "HARD_REBOOT", "MIGRATING", "REBOOT", "REBUILD", "RESIZE",
        "REVERT_RESIZE", "SHUTOFF", "VERIFY_RESIZE", "DELETED", "SHELVED", "SHELVED_OFFLOADED",
        "UNKNOWN",
    }
)  # fmt: skip
#: Transient statuses folded into ``ACTIVE``/``SHUTOFF`` according to the vm state.
TRANSIENT: Final = frozenset({"REBUILD", "REBOOT", "HARD_REBOOT", "RESIZE", "MIGRATING"})
ALL_EPS: Final = "all_granted_eps"


def _pattern(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error:
        return re.compile(re.escape(text), re.IGNORECASE)


def _int(name: str, text: str, low: int, high: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise invalid(f"{name} must be an integer (got {text!r})") from None
    if value < low or (high is not None and value > high):
        top = f" and {high}" if high is not None else ""
        raise invalid(f"{name} must be between {low}{top} (got {value})")
    return value


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@dataclass(frozen=True)
class ServerQuery:
    """The filters and paging of one listing request."""

    limit: int = DEFAULT_LIMIT
    page: int = 1
    marker: str | None = None
    name: str | None = None
    status: str | None = None
    tags: tuple[str, ...] = ()
    not_tags: tuple[str, ...] = ()
    flavor: str | None = None
    ip: str | None = None
    ip_eq: str | None = None
    server_ids: tuple[str, ...] = ()
    reservation_id: str | None = None
    enterprise_project_id: str | None = None

    @classmethod
    def parse(cls, pairs: Iterable[tuple[str, str]]) -> ServerQuery:
        """Build a query from decoded query pairs (last value wins); unknown keys are ignored.

        ``offset`` is a page number: 0 and 1 both mean the first page. Refuses bad numbers,
        ``limit`` outside 1..1000 and unknown statuses with ``Ecs.0005``.
        """
        q = dict(pairs)
        status = q.get("status") or None
        if status is not None and status not in STATUSES:
            raise invalid(f"status {status!r} is not a server status")
        return cls(
            limit=_int("limit", q["limit"], 1, MAX_LIMIT) if "limit" in q else DEFAULT_LIMIT,
            page=max(1, _int("offset", q["offset"], 0)) if "offset" in q else 1,
            marker=q.get("marker") or None,
            name=q.get("name") or None,
            status=status,
            tags=tuple(_csv(q.get("tags", ""))),
            not_tags=tuple(_csv(q.get("not-tags", ""))),
            flavor=q.get("flavor") or None,
            ip=q.get("ip") or None,
            ip_eq=q.get("ip_eq") or None,
            server_ids=tuple(_csv(q.get("server_id", ""))),
            reservation_id=q.get("reservation_id") or None,
            enterprise_project_id=q.get("enterprise_project_id") or None,
        )

    def matches(self, server: Server, now: float) -> bool:
        """Whether ``server`` passes every filter at ``now``."""
        if self.name is not None and not _pattern(self.name).search(server.name):
            return False
        if self.status is not None and not self._status_matches(server, now):
            return False
        if self.tags and not all(tag in server.tags for tag in self.tags):
            return False
        if self.not_tags and any(tag in server.tags for tag in self.not_tags):
            return False
        if self.flavor is not None and server.flavor.id != self.flavor:
            return False
        if self.ip is not None and not _pattern(self.ip).search(server.private_ip):
            return False
        if self.ip_eq is not None and server.private_ip != self.ip_eq:
            return False
        if self.reservation_id is not None and server.reservation_id != self.reservation_id:
            return False
        eps = self.enterprise_project_id
        return eps is None or eps == ALL_EPS or server.enterprise_project_id == eps

    def _status_matches(self, server: Server, now: float) -> bool:
        look = server.look(now)
        if look.status == self.status:
            return True
        if look.status in TRANSIENT or look.task_state is not None:
            folded = {"active": "ACTIVE", "stopped": "SHUTOFF"}.get(look.vm_state)
            return folded == self.status
        return False

    def page_of(self, items: Sequence[str]) -> list[str]:
        """The ids of the requested page (after ``marker`` when given, else page ``offset``)."""
        if self.marker is not None:
            try:
                start = list(items).index(self.marker) + 1
            except ValueError:
                raise invalid(f"marker {self.marker!r} is not a server in this listing") from None
            return list(items[start : start + self.limit])
        start = (self.page - 1) * self.limit
        return list(items[start : start + self.limit])
