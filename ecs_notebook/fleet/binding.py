"""What binds a journal to its run: the target (endpoint, region, project) and the password.

A resumed run must send to the same cloud, project and region with the same admin
password as the run that planned it. The journal holds the target as written and a
salted, slow scrypt verifier of the password (never the password, never a fast hash).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any, Final

from ..secrets import Secret
from .lifecycle import RunRefusedError

#: scrypt cost: ~50 ms and 16 MiB per check, so guessing offline from a journal is slow.
SCRYPT_N: Final = 1 << 14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
_TARGET_FIELDS: Final = (
    ("endpoint", "--endpoint"),
    ("region", "--region"),
    ("project_id", "--project-id"),
)


class TargetMismatchError(RunRefusedError):
    """Resume was pointed at another endpoint, region or project than the run's; nothing sent."""


class PasswordRequiredError(RunRefusedError):
    """The rest of a password-login run cannot be sent without the password; nothing sent."""


class PasswordMismatchError(RunRefusedError):
    """Resume was given another admin password than the run's; nothing was sent."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(secret: Secret, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.reveal().encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 << 20, dklen=32
    )


def password_verifier(secret: Secret | str) -> dict[str, Any]:
    """A salted scrypt verifier of ``secret``, for the journal."""
    salt = os.urandom(16)
    value = Secret(secret) if isinstance(secret, str) else secret
    digest = _derive(value, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return {
        "alg": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": _b64(salt),
        "hash": _b64(digest),
    }


def password_matches(verifier: dict[str, Any], secret: Secret | str) -> bool:
    """True if ``secret`` is the password ``verifier`` was made from."""
    if verifier.get("alg") != "scrypt":
        return False
    try:
        salt = base64.b64decode(verifier["salt"])
        expected = base64.b64decode(verifier["hash"])
        n, r, p = int(verifier["n"]), int(verifier["r"]), int(verifier["p"])
    except (KeyError, ValueError, TypeError):
        return False
    value = Secret(secret) if isinstance(secret, str) else secret
    return hmac.compare_digest(_derive(value, salt, n, r, p), expected)


def check_password(plan: dict[str, Any], secret: Secret | str | None) -> None:
    """Refuse (:class:`PasswordMismatchError`) a password other than the run's."""
    verifier = plan.get("password_verifier")
    if secret is None or not isinstance(verifier, dict):
        return
    if not password_matches(verifier, secret):
        raise PasswordMismatchError(
            "the admin password given is not the one this run was planned with: every "
            "server of a run gets the same password; nothing was sent"
        )


def normalise_endpoint(endpoint: str | None) -> str | None:
    """An endpoint as compared: no trailing slash."""
    return endpoint.rstrip("/") if endpoint else endpoint


def check_target(plan: dict[str, Any], **given: str | None) -> None:
    """Refuse (:class:`TargetMismatchError`) a target that differs from the journal's.

    ``given`` holds ``endpoint``, ``region`` and ``project_id`` (``None``: not given).
    """
    for name, flag in _TARGET_FIELDS:
        recorded = plan.get(name)
        value = given.get(name)
        if name == "endpoint":
            recorded, value = normalise_endpoint(recorded), normalise_endpoint(value)
        if recorded and value and recorded != value:
            raise TargetMismatchError(
                f"{flag} {value} is not this run's {name} ({recorded}): a run is resumed "
                f"only against the target it was planned on; nothing was sent"
            )
