"""Values placed in a URL path, encoded as the official SDK does."""

from __future__ import annotations

from urllib.parse import quote

from ..model.problems import Problem, ValidationError


def path_segment(value: str, field: str) -> str:
    """``value`` as one path segment: every reserved character percent-encoded.

    The SDK fills path parameters with ``quote(value, safe="")``, so ``a/b`` and ``a?b``
    stay one segment. ``""``, ``.`` and ``..`` would still name another path once a URL is
    normalised: they raise :class:`ValidationError` naming ``field`` (nothing is sent).
    """
    if value in ("", ".", ".."):
        raise ValidationError([Problem(field, f"{value!r} cannot be used in a URL path")])
    return quote(value, safe="")
