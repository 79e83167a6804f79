"""When a request may be sent again, and how long to wait first.

GETs are retried on throttling, 5xx and network errors. A POST is retried only when it
provably was not processed: the connection was never made, or flow control refused it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx

from ..errors import ApiError, ServiceError, ThrottledError

#: Network errors raised before any byte of the request reached the server.
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


@dataclass(frozen=True)
class RetryPolicy:
    """Jittered exponential backoff ("full jitter"), honouring ``Retry-After``."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        wait = self.rng.uniform(0, ceiling)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_delay))
        return wait


NO_RETRY = RetryPolicy(attempts=1)


def error_is_retryable(error: ApiError, *, idempotent: bool) -> bool:
    """Throttling is always safe to retry (nothing was done); 5xx only for idempotent calls."""
    if isinstance(error, ThrottledError):
        return True
    return idempotent and isinstance(error, ServiceError)


def transport_error_is_retryable(error: Exception, *, idempotent: bool) -> bool:
    """Any network error for idempotent calls; for a POST only one raised before sending."""
    return idempotent or isinstance(error, NOT_SENT_ERRORS)
