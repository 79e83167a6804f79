"""The HTTP client layer: the async :class:`EcsClient`, its retry rules and a sync facade."""

from ..secrets import protect_http_loggers
from .ecs import DEFAULT_TIMEOUT, EcsClient
from .ratelimit import RateLimiter
from .retry import NO_RETRY, RetryPolicy
from .sync import SyncEcsClient

protect_http_loggers()

__all__ = [
    "DEFAULT_TIMEOUT",
    "NO_RETRY",
    "EcsClient",
    "RateLimiter",
    "RetryPolicy",
    "SyncEcsClient",
]
