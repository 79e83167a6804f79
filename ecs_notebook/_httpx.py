"""The one import of the HTTP library: every other module takes ``httpx`` from here.

``httpx2`` is a drop-in fork; should httpx stall, switching is a change to this file alone.
"""

from __future__ import annotations

import httpx

__all__ = ["httpx"]
