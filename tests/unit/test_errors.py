"""All three error body formats and every form of throttling map onto one hierarchy."""

from __future__ import annotations

import json

import pytest

from ecs_notebook.errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    RequestRejectedError,
    ServerBusyError,
    ServiceError,
    ThrottledError,
    error_from_response,
)


def err(status: int, body: object, headers: dict[str, str] | None = None) -> ApiError | None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return error_from_response(status, raw, headers or {})


def test_ecs_service_format() -> None:
    error = err(
        400,
        {
            "error": {
                "code": "Ecs.0605",
                "message": "locked",
                "details": [{"code": "X", "message": "y"}],
            }
        },
        {"x-request-id": "req-1"},
    )
    assert isinstance(error, RequestRejectedError)
    assert (error.status_code, error.code, error.message, error.request_id) == (
        400,
        "Ecs.0605",
        "locked",
        "req-1",
    )
    assert error.details == (("X", "y"),)
    assert "Ecs.0605" in str(error) and "req-1" in str(error)


def test_gateway_format() -> None:
    error = err(
        401,
        {"error_code": "APIGW.0301", "error_msg": "verify aksk signature fail", "request_id": "r9"},
    )
    assert isinstance(error, AuthenticationError)
    assert (error.code, error.request_id) == ("APIGW.0301", "r9")


def test_camel_case_format() -> None:
    error = err(403, {"errorCode": "IAM.0002", "errorMsg": "denied"})
    assert error is not None and error.code == "IAM.0002"


def test_job_query_format() -> None:
    error = err(400, {"code": "Common.0011", "message": "job not found"})
    assert isinstance(error, NotFoundError)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (
            429,
            {"error_code": "APIGW.0308", "error_msg": "The throttling threshold has been reached"},
        ),
        (429, {"error": {"code": "Common.1503", "message": "flow control"}}),
        (202, {"error": {"code": "Common.0024", "message": "Flow limit exceeded"}}),
        (429, b"Too Many Requests"),
    ],
)
def test_throttling_in_all_its_forms(status: int, body: object) -> None:
    assert isinstance(err(status, body, {"retry-after": "3"}), ThrottledError)
    throttled = err(status, body, {"retry-after": "3"})
    assert throttled is not None and throttled.retry_after == 3.0


def test_busy_server() -> None:
    assert isinstance(err(501, {"error": {"code": "Ecs.0603", "message": "busy"}}), ServerBusyError)


def test_server_errors_and_unparseable_bodies() -> None:
    error = err(502, b"<html>bad gateway</html>")
    assert isinstance(error, ServiceError)
    assert error.code == "502"


def test_success_is_no_error() -> None:
    assert err(200, {"job_id": "abc"}) is None
    assert err(202, {"job_id": "abc"}) is None
