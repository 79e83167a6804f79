"""A value that keeps a secret out of reprs, logs, exceptions and files."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Final, NoReturn

import httpx

MASK: Final = "********"


class Secret:
    """Wrap a secret string (SK, token, admin password) so that it never prints.

    ``str()``, ``repr()`` and f-strings show a mask; only :meth:`reveal` returns the
    value, and pickling is refused so it cannot be written to disk by accident.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("a secret must be a string")
        self._value = value

    def reveal(self) -> str:
        """Return the secret itself, for the one place that must send it."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")


def secret_or_none(value: str | Secret | None) -> Secret | None:
    """Wrap ``value`` as a :class:`Secret`; empty strings and ``None`` become ``None``."""
    if value is None:
        return None
    if isinstance(value, Secret):
        return value if value else None
    return Secret(value) if value else None


class SecretBody(httpx.AsyncByteStream, httpx.SyncByteStream):
    """A request body that carries a secret (the reinstall body with its admin password).

    Held as an httpx stream whose ``repr`` is masked, so the bytes appear in no traceback's
    locals, log record or exception: only the transport, writing it, sees them.
    """

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"SecretBody(<{len(self._data)} bytes, {MASK}>)"

    __str__ = __repr__

    def __iter__(self) -> Iterator[bytes]:
        yield self._data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._data

    def __reduce__(self) -> NoReturn:
        raise TypeError("a SecretBody cannot be pickled")


#: Headers whose values are secrets (or prove one): never logged.
SECRET_HEADERS: Final = ("x-subject-token", "x-auth-token", "x-security-token", "authorization")
_HEADER_VALUE: Final = re.compile(
    "(?i)(['\"](?:" + "|".join(SECRET_HEADERS) + ")['\"]\\s*[,:]\\s*b?['\"])[^'\"]*"
)
#: The HTTP libraries' loggers that record headers at DEBUG (httpcore's trace of the answer).
HTTP_LOGGERS: Final = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "aiohttp.client",
)


class RedactSecretHeaders(logging.Filter):
    """Mask the values of :data:`SECRET_HEADERS` in a log record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _HEADER_VALUE.sub(lambda m: m.group(1) + MASK, message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def protect_http_loggers() -> None:
    """Put :class:`RedactSecretHeaders` on every HTTP library logger (once)."""
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecretHeaders) for f in logger.filters):
            logger.addFilter(RedactSecretHeaders())
