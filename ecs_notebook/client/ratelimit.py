"""A client-side rate limiter that keeps requests under the API's limit and adapts to it.

Requests are spaced evenly at ``rate`` per second (a token bucket with a small burst). When
the API throttles anyway, the rate drops multiplicatively and everyone pauses briefly; each
success then wins back a little, up to the configured rate (AIMD, as TCP does).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from ..model.problems import Problem, ValidationError


class RateLimiter:
    """Shared by every request of a client: the API's limit is per user, not per call site."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float = 1.0,
        decrease: float = 0.7,
        recover: float = 0.02,
        min_rate: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < math.inf:
            raise ValidationError([Problem("rate", f"must be a finite number > 0, not {rate!r}")])
        self.target = float(rate)
        self.rate = float(rate)
        self.burst = max(1.0, burst)
        self._decrease = decrease
        self._recover = recover
        self._min_rate = min(min_rate, rate)
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock()
        self._paused_until = 0.0
        self._lock: asyncio.Lock | None = None
        self.throttled_count = 0
        self.granted = 0

    def __repr__(self) -> str:
        return f"RateLimiter(rate={self.rate:.2f}/s, target={self.target:.2f}/s)"

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self) -> None:
        """Wait for this request's turn."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                self._refill(now)
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    self.granted += 1
                    return
                await asyncio.sleep((1.0 - self._tokens) / self.rate)

    def throttled(self, retry_after: float | None = None) -> None:
        """The API refused a request for its rate: slow down, and pause everyone briefly."""
        self.throttled_count += 1
        self.rate = max(self._min_rate, self.rate * self._decrease)
        pause = retry_after if retry_after is not None else 1.0 / self.rate
        self._paused_until = max(self._paused_until, self._clock() + pause)
        self._tokens = 0.0

    def succeeded(self) -> None:
        """A request went through: win back a little of the configured rate."""
        if self.rate < self.target:
            self.rate = min(self.target, self.rate + self.target * self._recover)
