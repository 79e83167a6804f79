"""IAM token authentication: ``POST /v3/auth/tokens``, then ``X-Auth-Token`` on every call.

The token is fetched through the same client (so the same transport and retries apply),
renewed before it expires, and fetched again once if the gateway says it is no longer valid.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncGenerator, Callable, Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ..errors import ApiError, AuthenticationError, TokenError, error_from_response
from ..secrets import Secret, SecretBody
from .credentials import (
    ENV_IAM_DOMAIN,
    ENV_IAM_ENDPOINT,
    ENV_IAM_PASSWORD,
    ENV_IAM_USER,
    IamPasswordCredentials,
)

Clock = Callable[[], datetime]
TOKEN_HEADER = "X-Auth-Token"  # noqa: S105 - a header name
SUBJECT_TOKEN_HEADER = "X-Subject-Token"  # noqa: S105 - a header name
TOKEN_HINT = f"check {ENV_IAM_USER}, {ENV_IAM_PASSWORD}, {ENV_IAM_DOMAIN} and {ENV_IAM_ENDPOINT}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def parse_expiry(value: str) -> datetime:
    """Parse IAM's ``expires_at`` (``2024-01-02T03:04:05.123000Z``)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


class TokenAuth(httpx.Auth):
    """Authenticate with an IAM user token scoped to one project (by id, else by region name)."""

    def __init__(
        self,
        credentials: IamPasswordCredentials,
        *,
        iam_endpoint: str,
        region: str,
        project_id: str | None = None,
        renew_before: timedelta = timedelta(minutes=30),
        clock: Clock = _utcnow,
    ) -> None:
        self._credentials = credentials
        self._iam_endpoint = iam_endpoint.rstrip("/")
        self._region = region
        self._project_id = project_id or credentials.project_id
        self._renew_before = renew_before
        self._clock = clock
        self._token: Secret | None = None
        self._expires_at: datetime | None = None
        self._async_lock: asyncio.Lock | None = None
        self._thread_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenAuth(user={self._credentials.user!r}, expires_at={self._expires_at!r})"

    @property
    def project_id(self) -> str | None:
        """The project the token is scoped to, once known."""
        return self._project_id

    @property
    def expires_at(self) -> datetime | None:
        """When the current token expires (``None`` before the first one)."""
        return self._expires_at

    def _needs_token(self) -> bool:
        return (
            self._token is None
            or self._expires_at is None
            or self._clock() >= self._expires_at - self._renew_before
        )

    def token_request(self) -> httpx.Request:
        """The ``POST /v3/auth/tokens`` request for this user and scope."""
        creds = self._credentials
        scope: dict[str, Any] = (
            {"id": self._project_id} if self._project_id else {"name": self._region}
        )
        return _token_request(
            f"{self._iam_endpoint}/v3/auth/tokens", creds.user, creds.password, creds.domain, scope
        )

    async def ensure_token(self, client: httpx.AsyncClient) -> None:
        """Obtain a token now, if one is needed, through ``client`` (without auth).

        Called before the request that needs it is built, so a failure here is a
        :class:`TokenError`: that request was never sent.
        """
        if not self._needs_token():
            return
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        async with self._async_lock:
            if not self._needs_token():
                return
            try:
                response = await client.send(self.token_request(), auth=None)
            except httpx.TransportError as exc:
                raise TokenError(
                    f"IAM did not answer: {type(exc).__name__}",
                    hint=f"check {ENV_IAM_ENDPOINT} and the network",
                ) from None
            try:
                self._store(response)
            except ApiError as exc:
                raise TokenError(str(exc), hint=exc.hint or TOKEN_HINT) from None

    def _store(self, response: httpx.Response) -> None:
        error = error_from_response(response.status_code, response.content, response.headers)
        token = response.headers.get(SUBJECT_TOKEN_HEADER)
        if error is not None or not token:
            if error is None:
                error = AuthenticationError(
                    response.status_code, str(response.status_code), "IAM returned no token"
                )
            raise error
        try:
            payload = json.loads(response.content)["token"]
            self._expires_at = parse_expiry(payload["expires_at"])
            project = payload.get("project") or {}
            self._project_id = self._project_id or project.get("id")
        except (ValueError, KeyError, TypeError):
            self._expires_at = self._clock() + timedelta(hours=1)
        self._token = Secret(token)

    def _apply(self, request: httpx.Request) -> None:
        assert self._token is not None
        request.headers[TOKEN_HEADER] = self._token.reveal()
        if self._project_id and "X-Project-Id" not in request.headers:
            request.headers["X-Project-Id"] = self._project_id

    @staticmethod
    def _token_rejected(response: httpx.Response) -> bool:
        return response.status_code == 401

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        with self._thread_lock:
            if self._needs_token():
                token_response = yield self.token_request()
                token_response.read()
                self._store(token_response)
        self._apply(request)
        response = yield request
        if self._token_rejected(response):
            with self._thread_lock:
                token_response = yield self.token_request()
                token_response.read()
                self._store(token_response)
            self._apply(request)
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        if self._needs_token():
            async with self._async_lock:
                if self._needs_token():
                    token_response = yield self.token_request()
                    await token_response.aread()
                    self._store(token_response)
        self._apply(request)
        response = yield request
        if self._token_rejected(response):
            stale = self._token
            async with self._async_lock:
                if self._token == stale:
                    token_response = yield self.token_request()
                    await token_response.aread()
                    self._store(token_response)
            self._apply(request)
            yield request


def _token_request(
    url: str, user: str, password: Secret, domain: str, scope: dict[str, Any]
) -> httpx.Request:
    """The token request; its body (with the password) travels as a :class:`SecretBody`."""
    body = SecretBody(
        json.dumps(
            {
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {
                            "user": {
                                "name": user,
                                "password": password.reveal(),
                                "domain": {"name": domain},
                            }
                        },
                    },
                    "scope": {"project": scope},
                }
            }
        ).encode()
    )
    target = httpx.URL(url, params={"nocatalog": "true"})
    return httpx.Request(
        "POST",
        target,
        stream=body,
        headers={  # with a stream, httpx adds no Host or Content-Length of its own
            "Host": target.netloc.decode("ascii"),
            "Content-Type": "application/json;charset=utf8",
            "Content-Length": str(len(body)),
        },
    )
