"""Turn a parsed ``os-reinstall`` body into a :class:`ReinstallRequest`, or refuse it.

The rules are the package's own (:meth:`ReinstallRequest.validate`): the simulator accepts
exactly the bodies that model finds no error in. Password-policy problems answer
``Ecs.0011``; every other problem, and any structural one, answers ``Ecs.0005``.
"""

from __future__ import annotations

from typing import Any, Final

from ..model import ReinstallRequest, UserData, check_password
from ..model.problems import Problem, errors
from ..secrets import Secret
from .exceptions import invalid, password_policy

OPTION_FIELDS: Final = ("adminpass", "keyname", "userid", "mode", "metadata")
METADATA_FIELDS: Final = ("user_data", "BYOL", "__system__encrypted", "__system__cmkid")
_ENCRYPTED: Final = {"1": True, "0": False}


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"{where} must be a JSON object")
    return value


def _strings(obj: dict[str, Any], allowed: tuple[str, ...], where: str) -> dict[str, str]:
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise invalid(f"unknown field(s) in {where}: {', '.join(unknown)}")
    out: dict[str, str] = {}
    for key, value in obj.items():
        if value is None or key == "metadata":
            continue
        if not isinstance(value, str):
            raise invalid(f"{where}.{key} must be a string")
        out[key] = value
    return out


def parse_reinstall(
    body: object, *, os_type: str | None = None, region: str | None = None
) -> ReinstallRequest:
    """Check ``body`` (decoded JSON) and return the request it describes.

    Raises :class:`EcsError` ``Ecs.0005`` (structure, rules, user data, mode, BYOL, CMK id)
    or ``Ecs.0011`` (password policy only). ``null`` values count as absent.
    """
    root = _object(body, "the body")
    if set(root) != {"os-reinstall"}:
        extra = sorted(set(root) - {"os-reinstall"})
        raise invalid(
            f"unknown field(s): {', '.join(extra)}" if extra else "os-reinstall is required"
        )
    option = _object(root["os-reinstall"], "os-reinstall")
    fields = _strings(option, OPTION_FIELDS, "os-reinstall")
    raw_meta = option.get("metadata")
    meta = (
        {}
        if raw_meta is None
        else _strings(
            _object(raw_meta, "os-reinstall.metadata"), METADATA_FIELDS, "os-reinstall.metadata"
        )
    )
    user_data = None
    if "user_data" in meta:
        try:
            user_data = UserData.from_base64(meta["user_data"], source="request")
        except ValueError:
            raise invalid("metadata.user_data is not valid base64") from None
    encrypted = None
    if "__system__encrypted" in meta:
        if meta["__system__encrypted"] not in _ENCRYPTED:
            raise invalid('metadata.__system__encrypted must be "0" or "1"')
        encrypted = _ENCRYPTED[meta["__system__encrypted"]]
    request = ReinstallRequest(
        adminpass=Secret(fields["adminpass"]) if "adminpass" in fields else None,
        keyname=fields.get("keyname"),
        userid=fields.get("userid"),
        mode=fields.get("mode"),
        user_data=user_data,
        byol=meta.get("BYOL"),
        encrypt_system_disk=encrypted,
        cmk_id=meta.get("__system__cmkid"),
        os_type=os_type,
    )
    _refuse_problems(request, region)
    return request


def _refuse_problems(request: ReinstallRequest, region: str | None) -> None:
    problems = errors(request.validate(region=region))
    if not problems:
        return
    policy: list[Problem] = []
    if request.adminpass is not None:
        policy = check_password(request.adminpass.reveal(), os_type=request.os_type)
    others = [p for p in problems if p not in policy]
    if others:
        raise invalid("; ".join(str(p) for p in others))
    raise password_policy("; ".join(p.message for p in problems))
