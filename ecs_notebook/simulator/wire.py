"""The simulator's own request and response values, shared by every front end."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote

JSON_TYPE: Final = "application/json;charset=UTF-8"


@dataclass(frozen=True)
class SimRequest:
    """A request as received: the raw (percent-encoded) path, raw query, headers, body."""

    method: str
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def query_pairs(self) -> list[tuple[str, str]]:
        """Decoded query pairs in order. ``+`` stays ``+`` (RFC 3986, as the signer encodes)."""
        pairs = []
        for part in self.query.split("&"):
            if not part:
                continue
            key, _, value = part.partition("=")
            pairs.append((unquote(key), unquote(value)))
        return pairs


@dataclass
class SimResponse:
    """A complete answer: status, headers (``X-Request-Id`` included) and body bytes."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> SimResponse:
        """A JSON answer with the cloud's content type."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        items = [("Content-Type", JSON_TYPE), *(headers or {}).items()]
        return cls(status, items, body)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True)
class Dropped:
    """No answer: the connection is dropped (``reset`` before, ``lost`` after processing)."""

    kind: str
    response: SimResponse | None = None
