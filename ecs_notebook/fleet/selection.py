"""Choosing servers and checking them before anything is sent. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..errors import InputError
from ..model import WITH_STOP_SERVER, ReinstallRequest
from ..model.problems import errors
from ..model.servers import Server

#: Statuses from which a reinstall can start.
REINSTALLABLE_STATUSES = frozenset({"ACTIVE", "SHUTOFF"})


@dataclass(frozen=True)
class ServerFilter:
    """What to pick: every given criterion must match (``tags`` all of them).

    ``name_regex`` is a Python regular expression searched in the name; ``image`` is a
    case-insensitive substring of the image name.
    """

    name_regex: str | None = None
    status: str | None = None
    tags: tuple[str, ...] = ()
    availability_zone: str | None = None
    image: str | None = None

    def __post_init__(self) -> None:
        if self.name_regex:
            try:
                re.compile(self.name_regex)
            except re.error as exc:
                raise ValueError(
                    f"name pattern {self.name_regex!r} is not a valid regex: {exc}"
                ) from None

    def matches(self, server: Server) -> bool:
        """True when ``server`` meets every criterion."""
        if self.name_regex and not re.search(self.name_regex, server.name):
            return False
        if self.status and server.status != self.status.upper():
            return False
        if self.tags and not set(self.tags) <= set(server.tags):
            return False
        if self.availability_zone and server.availability_zone != self.availability_zone:
            return False
        return not (self.image and self.image.lower() not in (server.image_name or "").lower())


def select(servers: Iterable[Server], criteria: ServerFilter) -> list[Server]:
    """The servers that match ``criteria``, in their original order."""
    return [s for s in servers if criteria.matches(s)]


def servers_frame(servers: Iterable[Server]) -> pd.DataFrame:
    """A fleet table (one row per server) for filtering with pandas."""
    rows = [
        {
            "id": s.id,
            "name": s.name,
            "status": s.status,
            "task_state": s.task_state,
            "locked": s.locked,
            "has_system_disk": s.has_system_disk,
            "image_name": s.image_name,
            "os_type": s.os_type,
            "flavor": s.flavor,
            "availability_zone": s.availability_zone,
            "private_ip": s.private_ip,
            "tags": ",".join(s.tags),
        }
        for s in servers
    ]
    columns = [
        "id",
        "name",
        "status",
        "task_state",
        "locked",
        "has_system_disk",
        "image_name",
        "os_type",
        "flavor",
        "availability_zone",
        "private_ip",
        "tags",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["status"] = frame["status"].astype("category")
    return frame


@dataclass(frozen=True)
class Skip:
    """A server left out by the pre-flight check, and why."""

    server_id: str
    name: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """The servers a reinstall will be sent to, and those left out with their reasons."""

    targets: tuple[Server, ...]
    skipped: tuple[Skip, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def count(self) -> int:
        """How many servers will be reinstalled."""
        return len(self.targets)

    def confirm(self, expected: int) -> ConfirmedPlan:
        """Confirm by stating how many servers you expect to reinstall; a mismatch sends nothing."""
        if isinstance(expected, bool) or not isinstance(expected, int) or expected != self.count:
            raise ConfirmationError(expected, self.count)
        return ConfirmedPlan(self)


@dataclass(frozen=True)
class ConfirmedPlan:
    """A plan whose size the operator has stated: the only thing a submitter accepts."""

    plan: Plan


class ConfirmationError(InputError):
    """The confirmation did not match the plan: nothing was sent."""

    def __init__(self, expected: object, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"you confirmed {expected!r} servers but the plan reinstalls {actual}: nothing was sent"
        )


def preflight(
    servers: Sequence[Server],
    request: ReinstallRequest,
    *,
    keypairs: Iterable[str] | None = None,
    requested_ids: Sequence[str] | None = None,
    stopped_only: bool = False,
) -> Plan:
    """Check each server before anything is sent; the ones that would fail are skipped.

    ``keypairs`` lists known key pair names (to catch a typo before a whole fleet fails);
    ``requested_ids`` are ids the operator named (duplicates and unknown ids are reported);
    ``stopped_only`` applies the partner-region rule that a running server needs
    ``mode=withStopServer``.
    """
    skipped: list[Skip] = []
    targets: list[Server] = []
    known = {s.id.lower(): s for s in servers}
    seen: set[str] = set()
    if requested_ids is not None:
        counted: set[str] = set()
        requested_ids = [sid.lower() for sid in requested_ids]  # UUIDs ignore case
        for sid in requested_ids:
            if sid in counted:
                skipped.append(Skip(sid, known[sid].name if sid in known else "", "named twice"))
            counted.add(sid)
            if sid not in known:
                skipped.append(Skip(sid, "", "no such server in this project"))
        candidates = [known[sid] for sid in dict.fromkeys(requested_ids) if sid in known]
    else:
        candidates = list(servers)
    keypair_names = set(keypairs) if keypairs is not None else None
    for server in candidates:
        if server.id in seen:
            skipped.append(Skip(server.id, server.name, "listed twice"))
            continue
        seen.add(server.id)
        reason = _skip_reason(server, request, keypair_names, stopped_only)
        if reason:
            skipped.append(Skip(server.id, server.name, reason))
        else:
            targets.append(server)
    return Plan(tuple(targets), tuple(skipped))


def _skip_reason(
    server: Server, request: ReinstallRequest, keypairs: set[str] | None, stopped_only: bool
) -> str | None:
    if server.locked:
        return "locked (unlock it first; the API refuses with Ecs.0605)"
    if server.rebuilding:
        return "already rebuilding (another reinstall is under way)"
    if not server.has_system_disk:
        return "no system disk (the API refuses with Ecs.0105)"
    if server.status not in REINSTALLABLE_STATUSES:
        return f"status {server.status} does not allow a reinstall"
    if request.keyname is not None and keypairs is not None and request.keyname not in keypairs:
        return f"key pair {request.keyname!r} does not exist (Ecs.0314)"
    if stopped_only and server.status == "ACTIVE" and request.mode != WITH_STOP_SERVER:
        return f"running, and this region needs mode={WITH_STOP_SERVER} to stop it first"
    if server.os_type and request.os_type != server.os_type:
        general = errors(request.validate())
        own = errors(request.with_changes(os_type=server.os_type).validate())
        problems = [p for p in own if p not in general]
        if problems:
            return f"not valid for its OS ({server.os_type}): {problems[0]}"
    return None
