"""The routing table: method and path template to handler name (moto's ``urls.py``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

from .exceptions import Style


@dataclass(frozen=True)
class Route:
    """One API: ``ecs`` routes get faults, flow control and the project check."""

    method: str
    template: str
    handler: str
    style: Style
    ecs: bool = True
    auth: bool = True

    @property
    def pattern(self) -> re.Pattern[str]:
        """The template as a regular expression over the raw path."""
        return _compile(self.template)

    @property
    def key(self) -> str:
        """``METHOD template``: how requests are counted in the ground truth."""
        return f"{self.method} {self.template}"


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compile(template: str) -> re.Pattern[str]:
    pattern = _PATTERNS.get(template)
    if pattern is None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        pattern = _PATTERNS[template] = re.compile(f"^{regex}$")
    return pattern


ROUTES: Final = (
    Route("POST", "/v2/{project_id}/cloudservers/{server_id}/reinstallos", "reinstall", "ecs"),
    Route("GET", "/v1/{project_id}/jobs/{job_id}", "show_job", "job"),
    Route("GET", "/v1/{project_id}/cloudservers/detail", "list_servers", "ecs"),
    Route("GET", "/v1/{project_id}/cloudservers/{server_id}", "show_server", "ecs"),
    Route("GET", "/v2.1/{project_id}/os-keypairs", "list_keypairs", "nova"),
    Route("GET", "/v2.1/{project_id}/os-keypairs/{keypair_name}", "show_keypair", "nova"),
    Route("POST", "/v3/auth/tokens", "create_token", "iam", ecs=False, auth=False),
    Route("GET", "/v3/auth/projects", "list_auth_projects", "iam", ecs=False),
    Route("POST", "/v3.0/OS-CREDENTIAL/securitytokens", "create_security_token", "iam", ecs=False),
)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for ``method`` and raw ``path`` and its decoded parameters, or ``None``."""
    for route in ROUTES:
        if route.method != method:
            continue
        found = route.pattern.match(path)
        if found:
            return route, {k: unquote(v) for k, v in found.groupdict().items()}
    return None
