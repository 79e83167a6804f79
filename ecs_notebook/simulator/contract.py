"""The reinstall contract as the simulator reads it: fields, limits, rules and refusals.

Written from ``shared/reference/api-contract.md`` (cited as "contract <section>"), not from
the client: the simulator is a witness of the API, so nothing here comes from
``ecs_notebook.model``. Each field, rule and refusal names the section it comes from.

Where the contract is silent the simulator accepts (unknown fields are ignored, JSON
scalars are read as their text, base64 may be wrapped); ``docs/simulator.md`` lists those
silent cases and the few refusals kept without a contract sentence.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

# -- refusals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """One documented way to say no: HTTP status, error code, and where it is written."""

    status: int
    code: str
    section: str
    meaning: str


MALFORMED: Final = Refusal(400, "Ecs.0005", "3.2", "invalid parameters / malformed JSON")
PASSWORD_POLICY: Final = Refusal(400, "Ecs.0011", "3.2", "password complexity not met")
BAD_STATUS: Final = Refusal(400, "Ecs.0100", "1.2 rule 4, 3.2", "status does not allow it")
KMS_KEY_INVALID: Final = Refusal(400, "Ecs.0912", "3.2", "invalid disk encryption key (cmkid)")
BYOL_UNSUPPORTED: Final = Refusal(400, "Ecs.0090", "3.2", "BYOL not supported in this region")
KEYPAIR_NOT_FOUND: Final = Refusal(400, "Ecs.0314", "3.2, 4.5", "key pair does not exist")
SERVER_LOCKED: Final = Refusal(400, "Ecs.0605", "3.2, 4.2", "the ECS is locked")
NO_SYSTEM_DISK: Final = Refusal(400, "Ecs.0105", "1.2 rule 5, 3.2", "the ECS has no system disk")
SERVER_BUSY: Final = Refusal(501, "Ecs.0603", "1.2 rule 5, 3.2", "other operations are running")
SERVER_NOT_FOUND: Final = Refusal(404, "Ecs.0114", "3.2", "the ECS does not exist")
#: Codes a reinstall job may end with (contract 2.1 failure shape, 3.2 codes).
JOB_IMAGE_INVALID: Final = "Ecs.0007"
JOB_BACKEND_ERROR: Final = "Ecs.1000"

# -- fields --------------------------------------------------------------------------------

WITH_STOP_SERVER: Final = "withStopServer"
PASSWORD_MIN: Final = 8
PASSWORD_MAX: Final = 26
PASSWORD_SPECIALS: Final = "!@$%^-_=+[{}]:,./?"  # noqa: S105 (a character set)
WINDOWS_USER: Final = "Administrator"
USER_DATA_MAX: Final = 32 * 1024
CMK_ID_LENGTH: Final = 36


@dataclass(frozen=True)
class Field:
    """One JSON field of ``os-reinstall``: where it sits, its JSON type, enum and length."""

    name: str
    parent: str
    section: str
    enum: tuple[str, ...] | None = None
    length: int | None = None
    json_type: str = "string"


OPTION: Final = "os-reinstall"
METADATA: Final = "os-reinstall.metadata"
FIELDS: Final = (
    Field("adminpass", OPTION, "1.2"),
    Field("keyname", OPTION, "1.2"),
    Field("userid", OPTION, "1.2"),
    Field("mode", OPTION, "1.2", enum=(WITH_STOP_SERVER,)),
    Field("user_data", METADATA, "1.2"),
    Field("BYOL", METADATA, '1.2 (spec: any value but "true" is invalid), 9.4', enum=("true",)),
    Field("__system__encrypted", METADATA, "1.2", enum=("0", "1")),
    Field("__system__cmkid", METADATA, "1.2", length=CMK_ID_LENGTH),
)
FIELDS_BY_NAME: Final = {f.name: f for f in FIELDS}


@dataclass(frozen=True)
class ReinstallBody:
    """A body the contract accepts, as plain values (the simulator's own reading of it).

    Empty ``adminpass``/``keyname``/``userid`` count as not given (contract 1.2 speaks of
    "empty"); ``user_data`` is the decoded payload.
    """

    adminpass: str | None = None
    keyname: str | None = None
    userid: str | None = None
    mode: str | None = None
    user_data: bytes | None = None
    byol: bool = False
    encrypted: bool = False
    cmk_id: str | None = None

    def __repr__(self) -> str:
        shown = "***" if self.adminpass is not None else None
        return f"ReinstallBody(adminpass={shown}, keyname={self.keyname!r}, mode={self.mode!r})"


class ContractError(Exception):
    """A body the contract refuses: the :class:`Refusal` and a message naming the field."""

    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(f"{refusal.code}: {message}")
        self.refusal = refusal
        self.message = message


# -- reading the body ----------------------------------------------------------------------


def _text(value: Any, where: str) -> str | None:
    """A string field: ``null`` is absent, JSON scalars are read as their text (silent case)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise ContractError(MALFORMED, f"{where} must be a string")


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ContractError(MALFORMED, f"{where} must be a JSON object")
    return value


def _decode_user_data(text: str) -> bytes:
    compact = re.sub(r"[ \t\r\n]", "", text)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise ContractError(MALFORMED, "metadata.user_data must be base64") from None


def password_problems(password: str, os_type: str | None) -> list[str]:
    """How ``password`` breaks the policy of contract 1.2 (``adminpass``), never echoing it."""
    problems = []
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        problems.append(f"password length must range from {PASSWORD_MIN} to {PASSWORD_MAX}")
    classes = (
        any("a" <= c <= "z" for c in password),
        any("A" <= c <= "Z" for c in password),
        any("0" <= c <= "9" for c in password),
        any(c in PASSWORD_SPECIALS for c in password),
    )
    if sum(classes) < 3:
        problems.append("password must contain at least 3 of upper, lower, digit, special")
    if (os_type or "").lower() == "windows":
        user = WINDOWS_USER.lower()
        lowered = password.lower()
        parts = {user[i : i + 3] for i in range(len(user) - 2)}
        if user[::-1] in lowered or any(p in lowered for p in parts):
            problems.append(
                "password must not contain the user name, its reverse or 3 of its letters"
            )
    return problems


@dataclass(frozen=True)
class Rule:
    """A cross-field rule of contract 1.2: ``broken(body)`` is true when it is broken."""

    section: str
    message: str
    broken: Callable[[ReinstallBody], bool]


RULES: Final = (
    Rule(
        "1.2 rule 1",
        "adminpass and keyname must not both be set",
        lambda b: b.adminpass is not None and b.keyname is not None,
    ),
    Rule(
        "1.2 rule 2",
        "metadata.user_data is required when neither adminpass nor keyname is given",
        lambda b: b.adminpass is None and b.keyname is None and not b.user_data,
    ),
    Rule(
        "1.2 rule 3",
        "userid is required with keyname",
        lambda b: b.keyname is not None and b.userid is None,
    ),
    Rule(
        "1.2 (__system__cmkid)",
        'metadata.__system__cmkid is required when __system__encrypted is "1"',
        lambda b: b.encrypted and b.cmk_id is None,
    ),
)


def _enum(name: str, value: str) -> None:
    spec = FIELDS_BY_NAME[name]
    if spec.enum is not None and value not in spec.enum:
        allowed = " or ".join(f'"{v}"' for v in spec.enum)
        raise ContractError(MALFORMED, f"{name} must be {allowed}")
    if spec.length is not None and len(value) != spec.length:
        raise ContractError(MALFORMED, f"{name} must be {spec.length} characters long")


def read_body(body: Any, *, os_type: str | None = None) -> ReinstallBody:
    """Judge a decoded JSON body against contract 1.2 alone (no server state).

    Raises :class:`ContractError`: ``Ecs.0005`` for structure, enums, limits and
    cross-field rules, ``Ecs.0011`` when only the password policy is broken.
    """
    root = _object(body, "the body")
    if root.get(OPTION) is None:
        raise ContractError(MALFORMED, f"{OPTION} is required")
    option = _object(root[OPTION], OPTION)
    raw_meta = option.get("metadata")
    meta = {} if raw_meta is None else _object(raw_meta, "metadata")
    values: dict[str, str] = {}
    for spec in FIELDS:
        source = option if spec.parent == OPTION else meta
        text = _text(source.get(spec.name), spec.name)
        if text is not None:
            values[spec.name] = text
    encrypted = values.get("__system__encrypted") == "1"
    for name in ("mode", "BYOL", "__system__encrypted", "__system__cmkid"):
        if name in values and (name != "__system__cmkid" or encrypted):
            _enum(name, values[name])
    user_data = None
    if "user_data" in values:
        user_data = _decode_user_data(values["user_data"])
        if len(user_data) > USER_DATA_MAX:
            raise ContractError(
                MALFORMED, f"metadata.user_data is more than {USER_DATA_MAX} bytes before base64"
            )
    parsed = ReinstallBody(
        adminpass=values.get("adminpass") or None,
        keyname=values.get("keyname") or None,
        userid=values.get("userid") or None,
        mode=values.get("mode"),
        user_data=user_data,
        byol=values.get("BYOL") == "true",
        encrypted=encrypted,
        cmk_id=values.get("__system__cmkid"),
    )
    broken = [rule.message for rule in RULES if rule.broken(parsed)]
    if broken:
        raise ContractError(MALFORMED, "; ".join(broken))
    if parsed.adminpass is not None:
        problems = password_problems(parsed.adminpass, os_type)
        if problems:
            raise ContractError(PASSWORD_POLICY, "; ".join(problems))
    return parsed
