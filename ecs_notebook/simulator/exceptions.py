"""The refusals of the simulated cloud, each with its documented HTTP status and code.

Every refusal is a :class:`CloudError`; its ``style`` says which body format the HTTP layer
renders (contract 3.1): ``ecs`` ``{"error": {"code", "message"}}``, ``gateway``
``{"error_code", "error_msg", "request_id"}``, ``job`` top-level ``code``/``message``,
``nova`` ``{"itemNotFound": {"code", "message"}}`` and ``iam`` Keystone style.
"""

from __future__ import annotations

from typing import Final, Literal

from .contract import MALFORMED, SERVER_NOT_FOUND, Refusal

Style = Literal["ecs", "gateway", "job", "nova", "iam"]

# ECS service codes (contract 3.2); the reinstall refusals are in :mod:`.contract`.
PROJECT_MISMATCH: Final = "Ecs.0023"
SYSTEM_ERROR: Final = "Common.0001"
JOB_NOT_FOUND: Final = "Common.0011"
JOB_PROJECT_MISMATCH: Final = "Common.0018"

# API Gateway codes (contract 3.3).
API_NOT_FOUND: Final = "APIGW.0101"
REQUEST_ERROR: Final = "APIGW.0201"
AUTH_FAILED: Final = "APIGW.0301"
TOKEN_EXPIRED: Final = "APIGW.0307"  # noqa: S105 (an error code)
THROTTLED: Final = "APIGW.0308"
GATEWAY_ERROR: Final = "APIGW.0601"

AUTH_PREFIX: Final = "Incorrect IAM authentication information: "
SIGNATURE_FAIL: Final = AUTH_PREFIX + "verify aksk signature fail"
AK_LOCKED: Final = AUTH_PREFIX + "AK access failed to reach the limit,forbidden"
TOKEN_NOT_FOUND: Final = AUTH_PREFIX + "x-auth-token not found"


class CloudError(Exception):
    """A refusal: HTTP ``status``, service ``code``, ``message`` and the body ``style``."""

    style: Style = "ecs"

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class EcsError(CloudError):
    """Refused by the ECS service: ``{"error": {"code": ..., "message": ...}}``."""

    style: Style = "ecs"


class GatewayError(CloudError):
    """Refused by the API gateway: ``{"error_code", "error_msg", "request_id"}``."""

    style: Style = "gateway"


class JobQueryError(CloudError):
    """The job query itself failed: top-level ``code`` and ``message``."""

    style: Style = "job"


class NovaError(CloudError):
    """Refused by the Nova-compatible API (``/v2.1``): ``{"itemNotFound": {...}}``."""

    style: Style = "nova"


class IamError(CloudError):
    """Refused by IAM: ``{"error": {"code": 401, "title": ..., "message": ...}}``."""

    style: Style = "iam"


def refused(refusal: Refusal, message: str) -> EcsError:
    """The ECS answer for a :class:`~.contract.Refusal`."""
    return EcsError(refusal.status, refusal.code, message)


def invalid(detail: str) -> EcsError:
    """``Ecs.0005``: malformed or invalid request parameters."""
    return refused(MALFORMED, f"Invalid request parameter: {detail}")


def server_not_found(server_id: str) -> EcsError:
    """``Ecs.0114`` (404): no such ECS in this project."""
    return refused(SERVER_NOT_FOUND, f"The ECS {server_id} does not exist.")


def auth_failed(detail: str) -> GatewayError:
    """``APIGW.0301`` (401) with the gateway's message prefix."""
    return GatewayError(401, AUTH_FAILED, AUTH_PREFIX + detail)


def throttled(limit: str) -> GatewayError:
    """``APIGW.0308`` (429): flow control."""
    return GatewayError(
        429,
        THROTTLED,
        f"The throttling threshold has been reached: policy user over ratelimit,{limit}",
    )
