"""The refusals of the simulated cloud, each with its documented HTTP status and code.

Every refusal is a :class:`CloudError`; its ``style`` says which body format the HTTP layer
renders (contract 3.1): ``ecs`` ``{"error": {"code", "message"}}``, ``gateway``
``{"error_code", "error_msg", "request_id"}``, ``job`` top-level ``code``/``message``,
``nova`` ``{"itemNotFound": {"code", "message"}}`` and ``iam`` Keystone style.
"""

from __future__ import annotations

from typing import Final, Literal

Style = Literal["ecs", "gateway", "job", "nova", "iam"]

# ECS service codes (contract 3.2).
INVALID_PARAMETER: Final = "Ecs.0005"
PASSWORD_POLICY: Final = "Ecs.0011"  # noqa: S105 (an error code)
PROJECT_MISMATCH: Final = "Ecs.0023"
BYOL_UNSUPPORTED: Final = "Ecs.0090"
BAD_STATUS: Final = "Ecs.0100"
NO_SYSTEM_DISK: Final = "Ecs.0105"
SERVER_NOT_FOUND: Final = "Ecs.0114"
KEYPAIR_NOT_FOUND: Final = "Ecs.0314"
SERVER_BUSY: Final = "Ecs.0603"
SERVER_LOCKED: Final = "Ecs.0605"
IMAGE_INVALID: Final = "Ecs.0007"
KMS_KEY_INVALID: Final = "Ecs.0912"
BACKEND_ERROR: Final = "Ecs.1000"
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


def invalid(detail: str) -> EcsError:
    """``Ecs.0005``: malformed or invalid request parameters."""
    return EcsError(400, INVALID_PARAMETER, f"Invalid request parameter: {detail}")


def password_policy(detail: str) -> EcsError:
    """``Ecs.0011``: the admin password breaks the complexity policy."""
    return EcsError(400, PASSWORD_POLICY, f"Invalid password: {detail}")


def server_not_found(server_id: str) -> EcsError:
    """``Ecs.0114`` (404): no such ECS in this project."""
    return EcsError(404, SERVER_NOT_FOUND, f"The ECS {server_id} does not exist.")


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
