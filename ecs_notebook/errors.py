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
    """Base of every error raised by ecs-notebook.

    ``exit_code`` is the ``ecs-notebook`` command's exit status for the error (a subclass
    declares its own); ``hint`` says what the user can do, when something can be said;
    ``nothing_sent`` is true when the error provably came before any request was sent.
    """

    exit_code: int = 1
    hint: str = ""
    nothing_sent: bool = False


class InputError(EcsNotebookError, ValueError):
    """Bad input (arguments, files, confirmation), caught before anything was sent."""

    exit_code = 2
    nothing_sent = True


class ConfigurationError(InputError):
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
        hint: str = "",
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.request_id = request_id
        self.details = details
        self.retry_after = retry_after
        self.hint = hint or hint_for(status_code, code, message)
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

    def __init__(self, message: str, *, hint: str = "", nothing_sent: bool = False) -> None:
        self.hint = hint
        self.nothing_sent = nothing_sent
        super().__init__(message)


class CertificateError(TransportError):
    """The server's TLS certificate was not trusted: the connection was refused, nothing sent."""

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            hint="the certificate was not trusted: check the endpoint, or point SSL_CERT_FILE "
            "at the CA bundle that signed it",
            nothing_sent=True,
        )


class WaitTimeoutError(EcsNotebookError, TimeoutError):
    """Waiting (for a job to finish) took longer than allowed; the job may still finish."""


class OutcomeUnknownError(TransportError):
    """A POST left the client but its answer was lost: the operation may have started.

    Do not send it again blindly. Look at the server first: status ``REBUILD`` with a
    ``rebuild*`` task state, or a new job, means the reinstall was accepted.
    """

    exit_code = 1  # the command ended without the reinstall confirmed (3 is a halted rollout)

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


class TokenError(EcsNotebookError):
    """No IAM token could be obtained, so the request that needed it was never sent."""

    nothing_sent = True

    def __init__(self, cause: str, *, hint: str = "") -> None:
        self.cause = cause
        self.hint = hint
        super().__init__(f"could not obtain an IAM token ({cause}); nothing was sent")


class JobNotFoundError(EcsNotebookError):
    """A job id kept answering "not found" longer than a new job plausibly can."""

    def __init__(self, job_id: str, attempts: int) -> None:
        self.job_id = job_id
        self.attempts = attempts
        self.hint = "check the job id, region and project: jobs belong to one project"
        super().__init__(f"job {job_id} was not found ({attempts} times in a row); gave up")


#: What to do about the gateway's authentication refusals, by words in its message.
AUTH_HINTS: Final = (
    (
        "verify aksk signature fail",
        "check HUAWEICLOUD_SDK_SK: the secret key does not match the access key "
        "(5 failed signatures in a row lock the AK for 5 minutes)",
    ),
    (
        "failed to reach the limit",
        "the AK is locked after 5 failed signatures: wait 5 minutes, then check "
        "HUAWEICLOUD_SDK_SK before trying again",
    ),
    ("not exist", "check HUAWEICLOUD_SDK_AK: the gateway does not know this access key"),
    (
        "server time",
        "sync this machine's clock (NTP): requests more than 15 minutes off are refused",
    ),
    ("x-sdk-date", "sync this machine's clock (NTP): the request time was not accepted"),
    ("token expires", "the token expired: sync this machine's clock, or authenticate again"),
)


def hint_for(status_code: int, code: str, message: str) -> str:
    """What the user can do about an API error, or ``""`` when there is nothing to say."""
    if 300 <= status_code < 400:
        return "the endpoint answered with a redirect, which is never followed: check the endpoint"
    if status_code not in (401, 403) and not code.startswith("APIGW"):
        return ""
    lowered = message.lower()
    for words, hint in AUTH_HINTS:
        if words in lowered:
            return hint
    return ""


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


def parse_json(body: bytes) -> Any:
    """The JSON value of a body, or ``None`` when it is empty or not JSON."""
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def parse_error_body(
    body: bytes, payload: Any = None
) -> tuple[str, str, tuple[tuple[str, str], ...], str]:
    """Read the three error formats: gateway, ECS ``{"error": {...}}`` and job ``code``/``message``.

    ``payload`` is the body already parsed (:func:`parse_json`), when it was.
    Returns ``(code, message, details, request_id)``; empty strings when the body says nothing.
    """
    if payload is None:
        payload = parse_json(body)
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


def classify_response(
    status_code: int, body: bytes, headers: Mapping[str, str]
) -> tuple[ApiError | None, Any]:
    """Classify an HTTP answer once: ``(error or None, the body's JSON value)``.

    The body is parsed once; a successful answer whose body is not JSON is an error.
    """
    payload = parse_json(body)
    if 200 <= status_code < 300 and body and payload is None:
        return ApiError(status_code, "BadResponse", "the answer is not JSON"), None
    code, message, details, request_id = parse_error_body(body, payload)
    if 200 <= status_code < 300 and code not in THROTTLING_CODES:
        return None, payload
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
    error = kind(status_code, code, message, request_id, details=details, retry_after=retry_after)
    return error, payload


def error_from_response(
    status_code: int, body: bytes, headers: Mapping[str, str]
) -> ApiError | None:
    """The :class:`ApiError` an HTTP answer stands for, or ``None`` when it is a success."""
    return classify_response(status_code, body, headers)[0]


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds)
