"""The ``os-reinstall`` request: what a user composes, its rules, and the exact body sent.

Pure: no I/O, no HTTP, no widgets. Field order and JSON formatting follow the official SDK
(``ReinstallServerWithCloudInitRequestBody``), so the bytes sent are the bytes it would send.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Final

from ..secrets import MASK, Secret, SecretBody, secret_or_none
from .ids import check_server_id, not_text
from .password import check_password
from .problems import Problem, ValidationError, errors
from .user_data import USER_DATA_LIMIT, UserData

WITH_STOP_SERVER: Final = "withStopServer"
CMK_ID_LENGTH: Final = 36
KEYNAME_MAX: Final = 64
_KEYNAME: Final = re.compile(r"[A-Za-z0-9_.-]+")
_USERID: Final = re.compile(r"[0-9a-f]{32}")
_CMK_ID: Final = re.compile(r"[0-9A-Za-z-]+")
_PATH_SAFE: Final = re.compile(r"[0-9A-Za-z_-]+")

#: Regions whose API reference marks ``keyname`` and ``userid`` mandatory (contract 1.4).
KEYPAIR_DOC_REGIONS: Final = frozenset({"tr-central-201"})
#: Regions whose docs allow reinstall only on a stopped server unless ``withStopServer``.
STOPPED_ONLY_REGIONS: Final = frozenset(
    {"tr-central-201", "my-kualalumpur-1", "ae-ad-1", "eu-west-0"}
)


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    return value if value.strip() else None


@dataclass(frozen=True)
class ReinstallRequest:
    """The options of one ``os-reinstall`` call (contract 1.2), as a user gives them.

    ``adminpass`` is kept as a :class:`Secret`; empty strings count as not given.
    ``byol=True`` sends ``"BYOL": "true"``; ``encrypt_system_disk`` sends
    ``__system__encrypted`` ``"1"``/``"0"`` and needs ``cmk_id`` when true.
    """

    adminpass: Secret | None = None
    keyname: str | None = None
    userid: str | None = None
    mode: str | None = None
    user_data: UserData | None = None
    byol: bool | str | None = None
    encrypt_system_disk: bool | None = None
    cmk_id: str | None = None
    os_type: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        self._check_types()
        object.__setattr__(self, "adminpass", secret_or_none(self.adminpass))
        for name in ("keyname", "userid", "mode", "cmk_id"):
            object.__setattr__(self, name, _blank_to_none(getattr(self, name)))

    def _check_types(self) -> None:
        """Wrong types name their field (a number for a key pair, text for a flag ...)."""
        problems: list[Problem] = []
        for name in ("keyname", "userid", "mode", "cmk_id", "os_type"):
            value = getattr(self, name)
            if value is not None:
                problems += not_text(value, name)
        if self.adminpass is not None and not isinstance(self.adminpass, (str, Secret)):
            kind = type(self.adminpass).__name__
            problems.append(Problem("adminpass", f"must be text or a Secret, not {kind}"))
        if self.user_data is not None and not isinstance(self.user_data, UserData):
            kind = type(self.user_data).__name__
            problems.append(Problem("user_data", f"must be a UserData, not {kind}"))
        if self.encrypt_system_disk is not None and not isinstance(self.encrypt_system_disk, bool):
            kind = type(self.encrypt_system_disk).__name__
            problems.append(Problem("__system__encrypted", f"must be True or False, not {kind}"))
        if problems:
            raise ValidationError(problems)

    def with_changes(self, **changes: Any) -> ReinstallRequest:
        """A copy with some fields changed (the form calls this as the user types)."""
        return replace(self, **changes)

    # -- rules ---------------------------------------------------------------------------

    def validate(self, *, region: str | None = None) -> list[Problem]:
        """Every problem at once: errors block sending, warnings do not."""
        problems: list[Problem] = []
        has_password = self.adminpass is not None
        has_key = self.keyname is not None

        if has_password and has_key:
            problems.append(
                Problem("adminpass", "give either an admin password or a key pair, not both")
            )
        if has_password and self.adminpass is not None:
            problems.extend(check_password(self.adminpass.reveal(), os_type=self.os_type))
        if has_key and self.keyname is not None:
            problems.extend(check_keyname(self.keyname))
            if self.userid is None:
                problems.append(
                    Problem("userid", "is required with a key pair (the IAM user that owns it)")
                )
        if self.userid is not None and not _PATH_SAFE.fullmatch(self.userid):
            problems.append(Problem("userid", "may only use letters, digits, '-' and '_'"))
        elif self.userid is not None and not _USERID.fullmatch(self.userid):
            problems.append(
                Problem(
                    "userid",
                    "IAM user ids are usually 32 lower-case hexadecimal characters",
                    "warning",
                )
            )
        if not has_password and not has_key and self.user_data is None:
            problems.append(
                Problem(
                    "user_data",
                    "is required when neither an admin password nor a key pair is given",
                )
            )
        problems.extend(self._check_mode(region))
        problems.extend(self._check_user_data())
        problems.extend(self._check_byol())
        problems.extend(self._check_encryption())
        if region in KEYPAIR_DOC_REGIONS and not has_key:
            problems.append(
                Problem(
                    "keyname",
                    f"the {region} API reference marks key pair and user id as mandatory, "
                    "though its own example omits them; the request follows the API spec",
                    "warning",
                )
            )
        return problems

    def _check_mode(self, region: str | None) -> list[Problem]:
        if self.mode is None:
            where = f" in {region}" if region in STOPPED_ONLY_REGIONS else ""
            return [
                Problem(
                    "mode",
                    f"not set: the API refuses to reinstall a running server (Ecs.0100){where}; "
                    f"choose {WITH_STOP_SERVER} to stop it first",
                    "warning",
                )
            ]
        if self.mode != WITH_STOP_SERVER:
            return [Problem("mode", f"the only accepted value is {WITH_STOP_SERVER}")]
        return []

    def _check_user_data(self) -> list[Problem]:
        ud = self.user_data
        if ud is None:
            return []
        problems = []
        if ud.size == 0:
            problems.append(Problem("user_data", "is empty"))
        if not ud.within_limit:
            problems.append(
                Problem(
                    "user_data",
                    f"is {ud.size:,} bytes; the limit is {USER_DATA_LIMIT:,} bytes (32 KB) "
                    "before base64",
                )
            )
        if self.adminpass is not None and ud.text is not None and "password" in ud.text.lower():
            problems.append(
                Problem(
                    "user_data",
                    "appears to set a password; on Linux it overrides the admin password",
                    "warning",
                )
            )
        return problems

    def _check_byol(self) -> list[Problem]:
        if self.byol is None or self.byol is False or self.byol is True or self.byol == "true":
            return []
        return [Problem("BYOL", f'only accepts "true" (got {self.byol!r})')]

    def _check_encryption(self) -> list[Problem]:
        if self.encrypt_system_disk:
            if self.cmk_id is None:
                return [Problem("__system__cmkid", "is required to encrypt the system disk")]
            if len(self.cmk_id) != CMK_ID_LENGTH:
                return [
                    Problem(
                        "__system__cmkid",
                        f"must be {CMK_ID_LENGTH} characters (it has {len(self.cmk_id)})",
                    )
                ]
            if not _CMK_ID.fullmatch(self.cmk_id):
                return [Problem("__system__cmkid", "may only use letters, digits and '-'")]
        elif self.cmk_id is not None:
            return [Problem("__system__cmkid", "is only used when the system disk is encrypted")]
        return []

    @property
    def is_valid(self) -> bool:
        """True when nothing blocks sending (warnings allowed)."""
        return not errors(self.validate())

    # -- the body ------------------------------------------------------------------------

    def body(self, *, mask_secrets: bool = False) -> dict[str, Any]:
        """The JSON body as a dict, in the SDK's field order; raises :class:`ValidationError`."""
        problems = errors(self.validate())
        if problems:
            raise ValidationError(problems)
        return self._unchecked_body(mask_secrets=mask_secrets)

    def _unchecked_body(self, *, mask_secrets: bool) -> dict[str, Any]:
        option: dict[str, Any] = {}
        if self.adminpass is not None:
            option["adminpass"] = MASK if mask_secrets else self.adminpass.reveal()
        if self.keyname is not None:
            option["keyname"] = self.keyname
        if self.userid is not None:
            option["userid"] = self.userid
        metadata: dict[str, str] = {}
        if self.encrypt_system_disk is not None:
            metadata["__system__encrypted"] = "1" if self.encrypt_system_disk else "0"
        if self.cmk_id is not None:
            metadata["__system__cmkid"] = self.cmk_id
        if self.user_data is not None:
            metadata["user_data"] = self.user_data.encoded
        if self.byol is True or self.byol == "true":
            metadata["BYOL"] = "true"
        if metadata:
            option["metadata"] = metadata
        if self.mode is not None:
            option["mode"] = self.mode
        return {"os-reinstall": option}

    def to_json(self) -> bytes:
        """The exact bytes sent: the SDK's ``json.dumps`` formatting, ASCII-escaped."""
        return dump_json(self.body())

    @cached_property
    def _secret_body(self) -> SecretBody:
        return SecretBody(self.to_json())

    def secret_body(self) -> SecretBody:
        """:meth:`to_json`'s bytes in a :class:`SecretBody`: what the client sends.

        Built (and validated) once per request object: a fleet sends the same body many times.
        """
        return self._secret_body

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={value!r}"
            for name, value in (
                ("adminpass", self.adminpass),
                ("keyname", self.keyname),
                ("userid", self.userid),
                ("mode", self.mode),
                ("user_data", self.user_data),
                ("byol", self.byol),
                ("encrypt_system_disk", self.encrypt_system_disk),
                ("cmk_id", self.cmk_id),
            )
            if value is not None
        )
        return f"ReinstallRequest({shown})"


def dump_json(body: Any) -> bytes:
    """Serialise a body as the SDK does (``", "``/``": "`` separators, ASCII only)."""
    return json.dumps(body).encode("ascii")


def check_keyname(name: str) -> list[Problem]:
    """Problems with a key pair name (letters, digits, ``_-.``; at most 64 characters)."""
    if not isinstance(name, str):
        return not_text(name, "keyname")
    if not name:
        return [Problem("keyname", "is required")]
    if len(name) > KEYNAME_MAX:
        return [Problem("keyname", f"must be at most {KEYNAME_MAX} characters")]
    if not _KEYNAME.fullmatch(name):
        return [Problem("keyname", "may only use letters, digits, '_', '-' and '.'")]
    return []


def reinstall_path(project_id: str, server_id: str) -> str:
    """The request path; raises :class:`ValidationError` for malformed ids."""
    from .ids import check_project_id

    problems = check_project_id(project_id) + check_server_id(server_id)
    if problems:
        raise ValidationError(problems)
    return f"/v2/{project_id}/cloudservers/{server_id}/reinstallos"
