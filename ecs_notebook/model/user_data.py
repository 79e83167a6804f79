"""``user_data``: the Cloud-Init payload, measured before base64 as the API does."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Final

from .problems import Problem, ValidationError

#: The documented limit: 32 KB of content *before* base64 encoding.
USER_DATA_LIMIT: Final = 32 * 1024


@dataclass(frozen=True)
class UserData:
    """The raw bytes to inject, with where they came from. Its repr shows only the size."""

    raw: bytes = field(repr=False)
    source: str = "text"

    @classmethod
    def from_text(cls, text: str) -> UserData:
        """User data typed as text (encoded as UTF-8)."""
        return cls(text.encode("utf-8"), "text")

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "bytes") -> UserData:
        """User data given as bytes (a gzip archive, say)."""
        return cls(bytes(data), source)

    @classmethod
    def from_file(cls, path: str | PathLike[str]) -> UserData:
        """User data read from a file; raises ``OSError`` when it cannot be read."""
        p = Path(path)
        return cls(p.read_bytes(), p.name)

    @classmethod
    def from_base64(cls, encoded: str, source: str = "base64") -> UserData:
        """User data that is already base64; raises ``ValueError`` when it is not valid base64."""
        try:
            raw = base64.b64decode(encoded.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            problem = Problem("user_data", f"is not valid base64: {exc}")
            raise ValidationError([problem]) from None
        return cls(raw, source)

    @property
    def size(self) -> int:
        """Bytes before encoding: the figure the 32 KB limit applies to."""
        return len(self.raw)

    @property
    def encoded(self) -> str:
        """The base64 text that goes into ``metadata.user_data``."""
        return base64.b64encode(self.raw).decode("ascii")

    @property
    def text(self) -> str | None:
        """The content as text, or ``None`` when it is binary (gzip, for example)."""
        try:
            return self.raw.decode("utf-8")
        except UnicodeDecodeError:
            return None

    @property
    def within_limit(self) -> bool:
        """Whether the content fits the 32 KB limit."""
        return self.size <= USER_DATA_LIMIT

    def __repr__(self) -> str:
        return f"UserData(size={self.size}, source={self.source!r})"
