"""Time for the simulator: an injectable clock and the cloud's timestamp formats."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache

#: A clock returns the current time as POSIX seconds (``time.time`` is one).
Clock = Callable[[], float]


class ManualClock:
    """A clock that moves only when told to: deterministic job timelines in tests.

    It starts at the real current time (so signed requests dated "now" stay within the
    gateway's 15-minute window) unless ``start`` is given.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._now += seconds
            return self._now

    def __repr__(self) -> str:
        return f"ManualClock({iso_ms(self())!r})"


def _utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, timezone.utc)


@lru_cache(maxsize=1 << 16)
def iso_ms(moment: float) -> str:
    """Job times: ISO-8601 UTC with milliseconds and ``Z`` (``2016-04-25T20:04:34.604Z``)."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@lru_cache(maxsize=1 << 16)
def iso_seconds(moment: float) -> str:
    """Server ``created``/``updated``: ISO-8601 UTC to the second (``2019-05-22T03:19:19Z``)."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=1 << 16)
def iso_micro_naive(moment: float) -> str:
    """``OS-SRV-USG:launched_at`` and key pair times: microseconds, no zone."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%f")
