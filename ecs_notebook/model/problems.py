"""Validation findings that name the field they are about, in words a user understands."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import InputError

Severity = Literal["error", "warning"]

#: Words a user understands for each field key used in :class:`Problem`.
FIELD_LABELS: dict[str, str] = {
    "adminpass": "admin password",
    "keyname": "key pair",
    "userid": "user id",
    "mode": "mode",
    "user_data": "user data",
    "BYOL": "BYOL",
    "__system__encrypted": "system disk encryption",
    "__system__cmkid": "CMK id",
    "server_id": "server id",
    "project_id": "project id",
    "job_id": "job id",
    "region": "region",
    "endpoint": "endpoint",
}


@dataclass(frozen=True)
class Problem:
    """One finding about one field: an ``error`` blocks sending, a ``warning`` does not."""

    field: str
    message: str
    severity: Severity = "error"

    @property
    def label(self) -> str:
        """The field's name as a user knows it (``admin password`` for ``adminpass``)."""
        return FIELD_LABELS.get(self.field, self.field)

    def __str__(self) -> str:
        return f"{self.label}: {self.message}"


class ValidationError(InputError):
    """Raised instead of building a request from invalid input; lists every error at once.

    An :class:`~ecs_notebook.errors.InputError` (so also a ``ValueError``): nothing was sent.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(p for p in problems if p.severity == "error")
        lines = "; ".join(str(p) for p in self.problems)
        super().__init__(f"invalid request: {lines}")

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the fields with errors, in order, without repeats."""
        return tuple(dict.fromkeys(p.field for p in self.problems))


def errors(problems: Sequence[Problem]) -> list[Problem]:
    """Only the problems that block sending."""
    return [p for p in problems if p.severity == "error"]


def warnings(problems: Sequence[Problem]) -> list[Problem]:
    """Only the problems that do not block sending."""
    return [p for p in problems if p.severity == "warning"]
