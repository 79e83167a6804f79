"""AK/SK signing as an ``httpx.Auth``: the request that goes out is the request that was signed."""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime, timezone

import httpx

from .credentials import AkSkCredentials
from .signing import DATE_HEADER, canonical_query, format_sdk_date, sign

Clock = Callable[[], datetime]

#: Headers httpx adds for the transport. The SDK's ``requests`` adds them after signing, so
#: they are not signed there either: leaving them out keeps SignedHeaders identical.
TRANSPORT_HEADERS = frozenset(
    {"content-length", "accept", "accept-encoding", "connection", "transfer-encoding"}
)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class AkSkAuth(httpx.Auth):
    """Sign every request with ``SDK-HMAC-SHA256``, as the official SDK's ``Signer`` does.

    Adds ``X-Project-Id`` (when known), ``X-Security-Token`` (temporary credentials) and
    ``X-Sdk-Date``; rewrites the query string into canonical order, exactly as the SDK sends it.
    """

    requires_request_body = True

    def __init__(self, credentials: AkSkCredentials, *, clock: Clock = _utcnow) -> None:
        self._credentials = credentials
        self._clock = clock

    @property
    def access_key(self) -> str:
        """The AK (not secret; it identifies the key pair)."""
        return self._credentials.access_key

    def __repr__(self) -> str:
        return f"AkSkAuth(access_key={self.access_key!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def sign(self, request: httpx.Request) -> None:
        """Add the signing headers and ``Authorization`` to ``request`` in place."""
        creds = self._credentials
        if creds.project_id and "X-Project-Id" not in request.headers:
            request.headers["X-Project-Id"] = creds.project_id
        if creds.security_token is not None:
            request.headers["X-Security-Token"] = creds.security_token.reveal()
        if DATE_HEADER not in request.headers:
            request.headers[DATE_HEADER] = format_sdk_date(self._clock())
        pairs = request.url.params.multi_items()
        if pairs:
            request.url = request.url.copy_with(query=canonical_query(pairs).encode("ascii"))
        for name, value in list(request.headers.items()):
            if value != value.strip():
                request.headers[name] = value.strip()
        path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
        parts = sign(
            request.method,
            path,
            pairs,
            {k: v for k, v in request.headers.items() if k.lower() not in TRANSPORT_HEADERS},
            request.content,
            access_key=creds.access_key,
            secret_key=creds.secret_key.reveal(),
        )
        request.headers["Authorization"] = parts.authorization
