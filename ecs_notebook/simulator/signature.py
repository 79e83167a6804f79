"""The gateway's own ``SDK-HMAC-SHA256`` check, written from contract 5.1 (not the client's).

The gateway sees a request as it arrived: the raw path and query, header values as bytes
(the official SDK sends non-ASCII header values as UTF-8 bytes), the body. From those it
rebuilds the canonical request the sender must have signed and compares signatures.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Final
from urllib.parse import quote, unquote

ALGORITHM: Final = "SDK-HMAC-SHA256"
DATE_FORMAT: Final = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Authorization:
    """``SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...``, split."""

    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


def read_authorization(value: str) -> Authorization:
    """Split the header; ``ValueError`` (with the reason) when it is not well formed."""
    scheme, _, rest = value.partition(" ")
    if scheme != ALGORITHM:
        raise ValueError(f"the algorithm must be {ALGORITHM}")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if not sep:
            raise ValueError(f"malformed item {item.strip()!r}")
        parts[key] = val
    missing = [k for k in ("Access", "SignedHeaders", "Signature") if not parts.get(k)]
    if missing:
        raise ValueError(f"{', '.join(missing)} missing")
    return Authorization(
        parts["Access"], tuple(parts["SignedHeaders"].split(";")), parts["Signature"]
    )


def read_date(value: str) -> float:
    """``X-Sdk-Date`` as POSIX seconds; ``ValueError`` when not ``YYYYMMDDTHHMMSSZ``."""
    return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=timezone.utc).timestamp()


def header_text(wire_value: str) -> str:
    """A header value as the signer saw it: the wire bytes (held as latin-1) read as UTF-8."""
    raw = wire_value.encode("latin-1", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return wire_value


def _encode(text: str) -> str:
    return quote(text, safe="~")


def canonical_path(raw_path: str) -> str:
    """Decode the whole path, then split on ``/``, encode each segment, end with ``/``."""
    uri = "/".join(_encode(seg) for seg in unquote(raw_path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query_string(raw_query: str) -> str:
    """Decoded ``key=value`` pairs, sorted by key then value, each encoded again."""
    pairs = []
    for item in raw_query.split("&"):
        if item:
            key, _, val = item.partition("=")
            pairs.append((unquote(key), unquote(val)))
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(pairs))


def canonical_text(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
) -> str:
    """The canonical request for the signed ``headers`` (lower-case name, wire value)."""
    lines = "".join(f"{name}:{header_text(value).strip()}\n" for name, value in headers)
    declared = [v for n, v in headers if n == "x-sdk-content-sha256"]
    if not body:
        payload = hashlib.sha256(b"").hexdigest()
    elif declared:
        payload = declared[0].strip()
    else:
        payload = hashlib.sha256(body).hexdigest()
    return "\n".join(
        [
            method.upper(),
            canonical_path(raw_path),
            canonical_query_string(raw_query),
            lines,
            ";".join(name for name, _ in headers),
            payload,
        ]
    )


def expected_signature(canonical: str, date: str, secret_key: str) -> str:
    """Hex HMAC-SHA256 of the string to sign, keyed with the secret key."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{date}\n{digest}"
    return hmac.new(
        secret_key.encode("utf-8"), string_to_sign.encode("utf-8"), "sha256"
    ).hexdigest()


def signature_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of two hex signatures."""
    return hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii"))
