"""The one import of the HTTP library: every other module takes ``httpx`` from here.

``httpx2`` (pydantic's maintained, drop-in fork of httpx) is preferred: its connection pool
no longer rescans every connection per request, which made httpx 0.28 spend ~13 ms of CPU
per request at 50 concurrent requests (measured here: 79 -> 409 requests/s). It needs
Python 3.11; on 3.10 httpx itself is used.
"""

from __future__ import annotations

try:
    import httpx2 as httpx
except ImportError:  # pragma: no cover - Python 3.10
    import httpx  # type: ignore[no-redef]

__all__ = ["httpx"]
