"""The documented shapes of the identifiers that appear in request paths.

Upper-case UUIDs: one rule for the client and the simulator. A UUID is case-insensitive on
input (RFC 4122, section 3) and the cloud writes it in lower case, so both cases are
accepted here and an id is compared with others in lower case (the pre-flight check does;
the simulator looks servers up that way).
"""

from __future__ import annotations

import re
from typing import Final

from .problems import Problem


def not_text(value: object, field: str) -> list[Problem]:
    """A problem naming ``field`` when ``value`` is not a string (e.g. a number or ``None``)."""
    if isinstance(value, str):
        return []
    return [Problem(field, f"must be text, not {type(value).__name__}")]


_UUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_PROJECT: Final = re.compile(r"[0-9a-fA-F]{32}")
_JOB: Final = re.compile(r"[0-9A-Za-z-]{1,64}")


def is_server_id(value: str) -> bool:
    """ECS ids are UUIDs (``b0a9d2b4-2cae-4b66-a6ba-6af70f3bd7f8``)."""
    return isinstance(value, str) and bool(_UUID.fullmatch(value))


def is_project_id(value: str) -> bool:
    """Project ids are 32 hexadecimal characters."""
    return isinstance(value, str) and bool(_PROJECT.fullmatch(value))


def check_server_id(value: str, field: str = "server_id") -> list[Problem]:
    """Problems with a server id, as a list (empty when it is well formed)."""
    if not isinstance(value, str):
        return not_text(value, field)
    if not value:
        return [Problem(field, "is required")]
    if not is_server_id(value):
        return [Problem(field, f"{value!r} is not a server id (a UUID such as b0a9d2b4-2cae-...)")]
    return []


def check_project_id(value: str, field: str = "project_id") -> list[Problem]:
    """Problems with a project id, as a list (empty when it is well formed)."""
    if not isinstance(value, str):
        return not_text(value, field)
    if not value:
        return [Problem(field, "is required")]
    if not is_project_id(value):
        return [Problem(field, f"{value!r} is not a project id (32 hexadecimal characters)")]
    return []


def check_job_id(value: str, field: str = "job_id") -> list[Problem]:
    """Job ids are opaque (32 hex or a UUID); only path-safe characters are accepted."""
    if not isinstance(value, str):
        return not_text(value, field)
    if not value or not _JOB.fullmatch(value):
        return [Problem(field, f"{value!r} is not a job id")]
    return []
