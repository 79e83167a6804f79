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
        headers = request.headers
        present = set(headers.keys())  # lower-case names
        if creds.project_id and "x-project-id" not in present:
            headers["X-Project-Id"] = creds.project_id
        if creds.security_token is not None:
            headers["X-Security-Token"] = creds.security_token.reveal()
        if "x-sdk-date" not in present:
            headers[DATE_HEADER] = format_sdk_date(self._clock())
        pairs = request.url.params.multi_items() if request.url.query else []
        if pairs:
            request.url = request.url.copy_with(query=canonical_query(pairs).encode("ascii"))
        merged: dict[str, str] = {}  # repeated names joined, as httpx's Headers.items()
        for name, value in headers.multi_items():
            merged[name] = f"{merged[name]}, {value}" if name in merged else value
        signed: dict[str, str] = {}
        for name, value in merged.items():
            if value != (stripped := value.strip()):
                headers[name] = stripped  # what is signed is what is sent
            if name not in TRANSPORT_HEADERS:
                signed[name] = stripped
        path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
        parts = sign(
            request.method,
            path,
            pairs,
            signed,
            request.content,
            access_key=creds.access_key,
            secret_key=creds.secret_key.reveal(),
        )
        headers["Authorization"] = parts.authorization
