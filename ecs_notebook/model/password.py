"""The ECS admin password policy (contract 1.2, ``adminpass``)."""

from __future__ import annotations

from typing import Final

from .problems import Problem

MIN_LENGTH: Final = 8
MAX_LENGTH: Final = 26
SPECIALS: Final = "!@$%^-_=+[{}]:,./?"
WINDOWS_USER: Final = "Administrator"


def _classes(password: str) -> int:
    return sum(
        [
            any(c.isascii() and c.islower() for c in password),
            any(c.isascii() and c.isupper() for c in password),
            any(c.isascii() and c.isdigit() for c in password),
            any(c in SPECIALS for c in password),
        ]
    )


def check_password(
    password: str, *, os_type: str | None = None, field: str = "adminpass"
) -> list[Problem]:
    """Every way ``password`` breaks the policy. The password itself never appears in a message."""
    problems: list[Problem] = []
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        problems.append(
            Problem(
                field,
                f"must be {MIN_LENGTH} to {MAX_LENGTH} characters long (it has {len(password)})",
            )
        )
    bad = sum(1 for c in password if not (c.isascii() and c.isalnum()) and c not in SPECIALS)
    if bad:
        # Count them, never show them: the message must not repeat a secret's characters.
        problems.append(
            Problem(
                field,
                f"may only use letters, digits and {SPECIALS}; "
                f"{bad} character(s) are not allowed (spaces, control or non-ASCII characters)",
            )
        )
    if _classes(password) < 3:
        problems.append(
            Problem(
                field,
                "must mix at least 3 of: lower-case letters, upper-case letters, digits, "
                f"special characters ({SPECIALS})",
            )
        )
    if os_type is not None and os_type.lower() == "windows":
        problems.extend(_windows_rules(password, field))
    return problems


def _windows_rules(password: str, field: str) -> list[Problem]:
    lowered = password.lower()
    user = WINDOWS_USER.lower()
    if user in lowered or user[::-1] in lowered:
        return [Problem(field, f"must not contain the user name {WINDOWS_USER} or its reverse")]
    for i in range(len(user) - 2):
        if user[i : i + 3] in lowered:
            return [
                Problem(
                    field,
                    f"must not contain more than two consecutive characters of {WINDOWS_USER}",
                )
            ]
    return []
