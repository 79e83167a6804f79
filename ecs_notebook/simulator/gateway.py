"""The API gateway in front of ECS: AK/SK signatures, tokens, AK lockout and flow control."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final, Literal

from ..secrets import Secret
from .clock import Clock
from .exceptions import (
    AK_LOCKED,
    AUTH_FAILED,
    SIGNATURE_FAIL,
    TOKEN_EXPIRED,
    TOKEN_NOT_FOUND,
    GatewayError,
    auth_failed,
    throttled,
)
from .iam import IamModel
from .signature import (
    canonical_text,
    expected_signature,
    read_authorization,
    read_date,
    signature_matches,
)
from .wire import SimRequest

MAX_SKEW: Final = 15 * 60.0
MAX_FAILURES: Final = 5
LOCK_SECONDS: Final = 5 * 60.0


@dataclass(frozen=True)
class Caller:
    """Who sent a request: the AK or token user, and the project it is bound to (if any)."""

    method: Literal["aksk", "token"]
    principal: str
    user_id: str
    project_id: str | None


class Gateway:
    """Checks every cloud request the way the APIG does before it reaches ECS.

    Signatures are recomputed by :mod:`.signature` (the gateway's own code) from the request
    as received; ``host`` must be among the signed headers. A request with
    ``X-Security-Token`` must be signed with the temporary AK/SK that token came with, before
    it expires (contract 5.2b). Five consecutive signature
    failures lock the AK for five minutes. ``rate_limit`` (requests per second per AK or
    token user, burst of one second) answers ``APIGW.0308`` when exceeded.
    """

    def __init__(
        self,
        *,
        access_key: str,
        secret_key: Secret,
        user_id: str,
        iam: IamModel,
        clock: Clock,
        rate_limit: float | None = None,
    ) -> None:
        self.access_key = access_key
        self._secret_key = secret_key
        self.user_id = user_id
        self.iam = iam
        self.clock = clock
        self.rate_limit = rate_limit
        #: The canonical request of the last bad signature, to debug a signer.
        self.last_signature_failure: str | None = None
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Gateway(access_key={self.access_key!r}, rate_limit={self.rate_limit!r})"

    # -- authentication ------------------------------------------------------------------

    def authenticate(self, request: SimRequest) -> Caller:
        """The caller of ``request``, or a 401 :class:`GatewayError`."""
        token = request.header("X-Auth-Token")
        if token:
            found = self.iam.check(token)
            return Caller("token", "user:" + found.user_id, found.user_id, found.project_id)
        authorization = request.header("Authorization")
        if not authorization:
            raise GatewayError(401, AUTH_FAILED, TOKEN_NOT_FOUND)
        return self._verify_signature(request, authorization)

    def _verify_signature(self, request: SimRequest, authorization: str) -> Caller:
        try:
            parsed = read_authorization(authorization)
        except ValueError as error:
            raise auth_failed(f"the Authorization header is malformed ({error})") from None
        now = self.clock()
        access_key = parsed.access_key
        with self._lock:
            if self._locked_until.get(access_key, 0.0) > now:
                raise GatewayError(401, AUTH_FAILED, AK_LOCKED)
        secret, caller = self._secret_for(access_key, request.header("X-Security-Token"), now)
        date = request.header("X-Sdk-Date")
        self._check_date(date, now)
        if "host" not in parsed.signed_headers:
            raise auth_failed("verify aksk signature fail: host must be a signed header")
        signed: list[tuple[str, str]] = []
        for name in parsed.signed_headers:
            value = request.header(name)
            if value is None or name != name.lower():
                break
            signed.append((name, value))
        ok = "x-sdk-date" in parsed.signed_headers and len(signed) == len(parsed.signed_headers)
        if ok and date is not None:
            text = canonical_text(request.method, request.path, request.query, signed, request.body)
            ok = signature_matches(
                parsed.signature, expected_signature(text, date, secret.reveal())
            )
            if not ok:
                self.last_signature_failure = text
        self._count(access_key, ok, now)
        if not ok:
            raise GatewayError(401, AUTH_FAILED, SIGNATURE_FAIL)
        return caller

    def _secret_for(
        self, access_key: str, security_token: str | None, now: float
    ) -> tuple[Secret, Caller]:
        if access_key == self.access_key:
            if security_token:
                raise auth_failed("the security token does not belong to this AK")
            return self._secret_key, Caller("aksk", access_key, self.user_id, None)
        temporary = self.iam.temporary(access_key)
        if temporary is None:
            raise auth_failed(f"Get secretKey failed, ak: {access_key} not exist")
        if not security_token:
            raise auth_failed("x-security-token not found: a temporary AK needs its token")
        if not temporary.token_matches(security_token):
            raise auth_failed("the security token does not match the temporary AK")
        if now >= temporary.expires_at:
            raise GatewayError(
                401,
                TOKEN_EXPIRED,
                "The token must be updated: security token expires, expires_at: "
                f"{temporary.expires_text}",
            )
        return temporary.secret, Caller("aksk", access_key, temporary.user_id, None)

    @staticmethod
    def _check_date(value: str | None, now: float) -> None:
        if value is None:
            raise auth_failed("x-sdk-date not found")
        try:
            moment = read_date(value)
        except ValueError:
            raise auth_failed(
                f"x-sdk-date {value!r} is not in the YYYYMMDDTHHMMSSZ format"
            ) from None
        if abs(moment - now) > MAX_SKEW:
            raise auth_failed(
                f"the request time {value} differs from the server time by more than 15 minutes"
            )

    def _count(self, access_key: str, ok: bool, now: float) -> None:
        with self._lock:
            if ok:
                self._failures.pop(access_key, None)
                return
            failures = self._failures.get(access_key, 0) + 1
            if failures >= MAX_FAILURES:
                self._locked_until[access_key] = now + LOCK_SECONDS
                failures = 0
            self._failures[access_key] = failures

    # -- flow control --------------------------------------------------------------------

    def throttle(self, caller: Caller) -> None:
        """Take one request from the caller's bucket or raise ``APIGW.0308`` (429)."""
        rate = self.rate_limit
        if rate is None:
            return
        capacity = max(1.0, rate)
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(caller.principal, (capacity, now))
            tokens = min(capacity, tokens + max(0.0, now - last) * rate)
            if tokens < 1.0:
                self._buckets[caller.principal] = (tokens, now)
                raise throttled(f"limit:{rate:g},time:1 second")
            self._buckets[caller.principal] = (tokens - 1.0, now)
