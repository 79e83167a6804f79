"""Words for people, shared by the CLI and the widgets."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """``plural(1, "server")``: ``"1 server"``; ``plural(1234, "server")``: ``"1,234 servers"``."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"
