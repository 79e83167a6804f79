"""What the subcommands share: exit codes, the target options, problem printing."""

from __future__ import annotations

import argparse
import sys
from typing import Final

from ..client import EcsClient, RateLimiter
from ..errors import InputError
from ..model import ValidationError

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2


class UsageError(InputError):
    """Bad command-line input: reported with exit status 2, nothing sent."""


def add_target(parser: argparse.ArgumentParser) -> None:
    """``--region``, ``--endpoint``, ``--project-id``."""
    group = parser.add_argument_group(
        "target (credentials come from the environment or ~/.huaweicloud/credentials)"
    )
    group.add_argument("--region", help="region id, e.g. tr-west-1 (default: $ECS_NOTEBOOK_REGION)")
    group.add_argument("--endpoint", help="ECS endpoint URL (https; http only on loopback)")
    group.add_argument(
        "--project-id", help="project id (default: $HUAWEICLOUD_SDK_PROJECT_ID, or looked up)"
    )


def connect(args: argparse.Namespace, rate_limit: float | None = None) -> EcsClient:
    """A client for the target options (credentials from the environment or file)."""
    limiter = RateLimiter(rate_limit) if rate_limit else None
    return EcsClient.connect(
        args.region, endpoint=args.endpoint, project_id=args.project_id, rate_limiter=limiter
    )


def print_problems(exc: Exception) -> None:
    """Report bad input on stderr, each field named, and say that nothing was sent."""
    if isinstance(exc, ValidationError):
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
    else:
        print(f"error: {exc}", file=sys.stderr)
    if "nothing was sent" not in str(exc):
        print("nothing was sent", file=sys.stderr)
