"""What a user sees before sending: the exact body with secrets masked, and the user data."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .problems import Problem, errors
from .reinstall import ReinstallRequest
from .user_data import USER_DATA_LIMIT


@dataclass(frozen=True)
class Preview:
    """A rendering of a :class:`ReinstallRequest` that is safe to display or save.

    ``body_json`` is the body that will be sent, pretty-printed, with ``adminpass`` masked;
    it is ``None`` while errors remain. The user data appears both encoded and decoded.
    """

    body_json: str | None
    problems: tuple[Problem, ...]
    user_data_encoded: str | None
    user_data_text: str | None
    user_data_size: int
    user_data_limit: int = USER_DATA_LIMIT

    @property
    def sendable(self) -> bool:
        """True when no error remains."""
        return not errors(self.problems)

    @property
    def user_data_share(self) -> float:
        """The user data's size as a share of the 32 KB limit (1.0 = full)."""
        return self.user_data_size / self.user_data_limit


def preview(request: ReinstallRequest, *, region: str | None = None) -> Preview:
    """Build the :class:`Preview` of ``request`` (never raises for invalid input)."""
    problems = tuple(request.validate(region=region))
    body = None
    if not errors(problems):
        body = json.dumps(request.body(mask_secrets=True), indent=2)
    ud = request.user_data
    return Preview(
        body_json=body,
        problems=problems,
        user_data_encoded=ud.encoded if ud else None,
        user_data_text=(ud.text if ud.text is not None else "<binary content>") if ud else None,
        user_data_size=ud.size if ud else 0,
    )
