"""``SDK-HMAC-SHA256`` request signing, exactly as the official SDK's ``Signer.sign``.

Pure functions over plain values: no HTTP library, no clock. The canonical request,
string to sign and ``Authorization`` header are reproduced byte for byte for every
vector in the API contract's ``signing-vectors.json``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Final
from urllib.parse import quote, unquote

ALGORITHM: Final = "SDK-HMAC-SHA256"
DATE_HEADER: Final = "X-Sdk-Date"
DATE_FORMAT: Final = "%Y%m%dT%H%M%SZ"
CONTENT_SHA256_HEADER: Final = "X-Sdk-Content-Sha256"
UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
EMPTY_SHA256: Final = hashlib.sha256(b"").hexdigest()

QueryValue = str | int | bool


@dataclass(frozen=True)
class SignedParts:
    """Everything the signature was computed from, for tests and for the simulator."""

    canonical_request: str
    string_to_sign: str
    signed_headers: str
    signature: str
    authorization: str


def format_sdk_date(moment: datetime) -> str:
    """Render ``moment`` as the ``X-Sdk-Date`` value (UTC, ``YYYYMMDDTHHMMSSZ``)."""
    return moment.astimezone(timezone.utc).strftime(DATE_FORMAT)


def parse_sdk_date(value: str) -> datetime:
    """Parse an ``X-Sdk-Date`` value; raises ``ValueError`` when it is malformed."""
    return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=timezone.utc)


def _encode(text: str) -> str:
    return quote(text, safe="~")


def _render(value: QueryValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def canonical_uri(path: str) -> str:
    """Decode the whole path, split it, re-encode each segment, end with ``/`` (as the SDK).

    Decoding before splitting matters for an encoded ``/`` (``%2F``) inside a segment: the
    SDK (and so the gateway) signs it as a separator.
    """
    segments = [_encode(seg) for seg in unquote(path).split("/")]
    uri = "/".join(segments)
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(pairs: Iterable[tuple[str, QueryValue]]) -> str:
    """Sort pairs by key then value and encode both; also the query string that is sent."""
    rendered = sorted((k, _render(v)) for k, v in pairs)
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in rendered)


def _signed_header_items(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    items = [(k.lower(), v.strip()) for k, v in headers.items() if "_" not in k]
    return sorted(items)


def payload_hash(body: bytes, headers: Mapping[str, str]) -> str:
    """SHA-256 of the body, or the marker the headers give for a non-empty body (as the SDK).

    An empty body always hashes to the empty SHA-256, whatever the headers say.
    """
    if not body:
        return EMPTY_SHA256
    for name, value in headers.items():
        if name.lower() == CONTENT_SHA256_HEADER.lower():
            return value
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, QueryValue]],
    headers: Mapping[str, str],
    body: bytes,
) -> tuple[str, str]:
    """Return the canonical request and its ``SignedHeaders`` list.

    ``headers`` must already hold every header that is sent (``Host``, ``X-Sdk-Date``,
    ``X-Security-Token`` ...): all whose name has no ``_`` are signed.
    """
    items = _signed_header_items(headers)
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in items)
    signed = ";".join(k for k, _ in items)
    text = "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query),
            canonical_headers,
            signed,
            payload_hash(body, headers),
        ]
    )
    return text, signed


def _sdk_date(headers: Mapping[str, str]) -> str:
    for name, value in headers.items():
        if name.lower() == DATE_HEADER.lower():
            return value
    raise ValueError(f"the {DATE_HEADER} header is required for signing")


def sign(
    method: str,
    path: str,
    query: Iterable[tuple[str, QueryValue]],
    headers: Mapping[str, str],
    body: bytes,
    *,
    access_key: str,
    secret_key: str,
) -> SignedParts:
    """Sign a request whose headers are final (``Host`` and ``X-Sdk-Date`` included)."""
    creq, signed = canonical_request(method, path, query, headers, body)
    string_to_sign = "\n".join(
        [ALGORITHM, _sdk_date(headers), hashlib.sha256(creq.encode()).hexdigest()]
    )
    signature = hmac.new(secret_key.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"{ALGORITHM} Access={access_key}, SignedHeaders={signed}, Signature={signature}"
    )
    return SignedParts(creq, string_to_sign, signed, signature, authorization)


@dataclass(frozen=True)
class ParsedAuthorization:
    """The three parts of an ``SDK-HMAC-SHA256`` ``Authorization`` header."""

    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> ParsedAuthorization:
    """Split an ``Authorization`` header; raises ``ValueError`` when it is not ours."""
    prefix = ALGORITHM + " "
    if not value.startswith(prefix):
        raise ValueError(f"not an {ALGORITHM} authorization")
    fields: dict[str, str] = {}
    for part in value[len(prefix) :].split(","):
        key, sep, val = part.strip().partition("=")
        if not sep:
            raise ValueError("malformed authorization field")
        fields[key] = val
    try:
        return ParsedAuthorization(
            fields["Access"], tuple(fields["SignedHeaders"].split(";")), fields["Signature"]
        )
    except KeyError as exc:
        raise ValueError(f"authorization lacks {exc.args[0]}") from None
