"""One exception hierarchy for everything the client can report.

Messages never carry secrets: they are built from codes, ids and the API's own messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

#: Codes that mean "slow down": gateway, ECS service-level, and the HTTP-202 flavour.
THROTTLING_CODES: Final = frozenset({"APIGW.0308", "Common.1503", "Common.0024"})
BUSY_CODES: Final = frozenset({"Ecs.0603"})
NOT_FOUND_CODES: Final = frozenset({"Ecs.0114", "Ecs.0614", "Common.0011"})


class EcsNotebookError(Exception):
    """Base of every error raised by ecs-notebook."""


class ConfigurationError(EcsNotebookError):
    """Credentials, region or endpoint are missing or unusable; nothing was sent."""


class ApiError(EcsNotebookError):
    """The API answered with an error: HTTP status, error code, message and request id."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        request_id: str = "",
        *,
        details: tuple[tuple[str, str], ...] = (),
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.request_id = request_id
        self.details = details
        self.retry_after = retry_after
        rid = f" (request id {request_id})" if request_id else ""
        super().__init__(f"HTTP {status_code} {code}: {message}{rid}")


class ThrottledError(ApiError):
    """Flow control refused the request (429 ``APIGW.0308``/``Common.1503``, 202 ``Common.0024``).

    The request was not processed; it is safe to send again after a pause.
    """


class AuthenticationError(ApiError):
    """The gateway refused the credentials (401): bad signature, locked AK, expired token."""


class PermissionDeniedError(ApiError):
    """The credentials are valid but not allowed to do this (403)."""


class NotFoundError(ApiError):
    """The server or job does not exist (``Ecs.0114``, ``Common.0011``)."""


class ServerBusyError(ApiError):
    """Another operation is running on the server (``Ecs.0603``); try again in about a minute."""


class RequestRejectedError(ApiError):
    """The service refused the request as invalid or not allowed now (other 4xx)."""


class ServiceError(ApiError):
    """The service or gateway failed (5xx)."""


class TransportError(EcsNotebookError):
    """The request could not be completed over the network (after any allowed retries)."""


class OutcomeUnknownError(TransportError):
    """A POST left the client but its answer was lost: the operation may have started.

    Do not send it again blindly. Look at the server first: status ``REBUILD`` with a
    ``rebuild*`` task state, or a new job, means the reinstall was accepted.
    """

    def __init__(self, method: str, path: str, cause: str, server_id: str | None = None) -> None:
        self.method = method
        self.path = path
        self.server_id = server_id
        self.cause = cause
        target = f"server {server_id}" if server_id else path
        super().__init__(
            f"{method} {path}: the request was sent but no answer came back ({cause}); "
            f"the operation may have started. Check {target} before trying again: "
            "status REBUILD or task state rebuilding/rebuild_spawning means it was accepted."
        )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _find_code(payload: Mapping[str, Any]) -> tuple[str, str] | None:
    for code_key, msg_key in (
        ("error_code", "error_msg"),
        ("errorCode", "errorMsg"),
        ("code", "message"),
    ):
        if payload.get(code_key):
            return _text(payload[code_key]), _text(payload.get(msg_key))
    return None


def parse_error_body(body: bytes) -> tuple[str, str, tuple[tuple[str, str], ...], str]:
    """Read the three error formats: gateway, ECS ``{"error": {...}}`` and job ``code``/``message``.

    Returns ``(code, message, details, request_id)``; empty strings when the body says nothing.
    """
    try:
        payload = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        return "", body[:200].decode("utf-8", "replace").strip(), (), ""
    request_id = _text(payload.get("request_id"))
    found = _find_code(payload)
    details: tuple[tuple[str, str], ...] = ()
    if found is None:
        for value in payload.values():
            if isinstance(value, dict) and (found := _find_code(value)) is not None:
                raw = value.get("details")
                if isinstance(raw, list):
                    details = tuple(
                        (_text(d.get("code")), _text(d.get("message")))
                        for d in raw
                        if isinstance(d, dict)
                    )
                break
    code, message = found if found else ("", "")
    return code, message, details, request_id


def error_from_response(
    status_code: int, body: bytes, headers: Mapping[str, str]
) -> ApiError | None:
    """The :class:`ApiError` an HTTP answer stands for, or ``None`` when it is a success."""
    code, message, details, request_id = parse_error_body(body)
    if 200 <= status_code < 300 and code not in THROTTLING_CODES:
        return None
    request_id = headers.get("x-request-id") or request_id
    code = code or str(status_code)
    retry_after = _retry_after(headers.get("retry-after"))
    kind: type[ApiError]
    if code in THROTTLING_CODES or status_code == 429:
        kind = ThrottledError
    elif code in BUSY_CODES:
        kind = ServerBusyError
    elif code in NOT_FOUND_CODES or status_code == 404:
        kind = NotFoundError
    elif status_code == 401:
        kind = AuthenticationError
    elif status_code == 403:
        kind = PermissionDeniedError
    elif status_code >= 500:
        kind = ServiceError
    else:
        kind = RequestRejectedError
    return kind(status_code, code, message, request_id, details=details, retry_after=retry_after)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds)
