"""The HTTP client layer: the async :class:`EcsClient`, its retry rules and a sync facade."""

from .ecs import DEFAULT_TIMEOUT, EcsClient
from .ratelimit import RateLimiter
from .retry import NO_RETRY, RetryPolicy
from .sync import SyncEcsClient

__all__ = [
    "DEFAULT_TIMEOUT",
    "NO_RETRY",
    "EcsClient",
    "RateLimiter",
    "RetryPolicy",
    "SyncEcsClient",
]
