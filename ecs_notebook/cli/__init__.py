"""The ``ecs-notebook`` command: reinstall, resume, job, servers and simulator.

Credentials come from the environment or the SDK's credentials file, never from a flag.
Invalid input exits with status 2 and sends nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import ConfigurationError
from ..fleet import ConfirmationError
from ..model import ValidationError
from . import queries, reinstall
from .common import EXIT_USAGE, UsageError, print_problems


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ecs-notebook`` command."""
    parser = argparse.ArgumentParser(
        prog="ecs-notebook",
        description="Reinstall the OS of Huawei Cloud ECS servers, and track the jobs.",
    )
    parser.add_argument("--version", action="version", version=f"ecs-notebook {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    reinstall.add_parsers(sub)
    queries.add_parsers(sub)

    from ..simulator.cli import add_arguments as add_simulator_arguments

    p = sub.add_parser("simulator", help="run the built-in ECS simulator on loopback")
    add_simulator_arguments(p)
    p.set_defaults(handler=_simulator)
    return parser


def _simulator(args: argparse.Namespace) -> int:
    from ..simulator.cli import run

    return run(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
        return status
    except (UsageError, ValidationError, ConfigurationError, ConfirmationError) as exc:
        print_problems(exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


__all__ = ["build_parser", "main"]
