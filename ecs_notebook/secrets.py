"""A value that keeps a secret out of reprs, logs, exceptions and files."""

from __future__ import annotations

from typing import Final, NoReturn

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
