"""The ``ecs-notebook`` command: reinstall, resume, job, servers and simulator.

Credentials come from the environment or the SDK's credentials file, never from a flag.
Invalid input exits with status 2 and sends nothing. :func:`main` is the one place that turns
an error into a message and an exit status: no traceback for anything a user can cause.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import EcsNotebookError, InputError
from . import queries, reinstall
from .common import (
    EXIT_CODES_HELP,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    print_problems,
)

#: Set to 1 to see the traceback of an unexpected error (a bug), for a report.
ENV_TRACEBACK = "ECS_NOTEBOOK_TRACEBACK"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ecs-notebook`` command."""
    parser = argparse.ArgumentParser(
        prog="ecs-notebook",
        description="Reinstall the OS of Huawei Cloud ECS servers, and track the jobs.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ecs-notebook {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    reinstall.add_parsers(sub)
    queries.add_parsers(sub)

    from ..simulator.cli import add_arguments as add_simulator_arguments

    p = sub.add_parser("simulator", help="run the built-in ECS simulator on loopback")
    add_simulator_arguments(p)
    p.set_defaults(handler=_simulator)
    for choice in sub.choices.values():
        choice.epilog = EXIT_CODES_HELP
        choice.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _simulator(args: argparse.Namespace) -> int:
    from ..simulator.cli import run

    return run(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script: run a command, return its exit status.

    Every error is reported here, as a message on stderr and the status its class declares
    (``exit_code``: 2 for invalid input and refusals before sending, 1 otherwise).
    """
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help, --version, or argparse's own usage errors
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        status: int = args.handler(args)
        _flush()
        return status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()  # `ecs-notebook servers --json | head`: the reader has had enough
        return EXIT_OK
    except EcsNotebookError as exc:
        return report(exc)
    except OSError as exc:
        print(f"error: {exc.strerror or type(exc).__name__}: {exc.filename or ''}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        if os.environ.get(ENV_TRACEBACK) == "1":
            raise
        print(
            f"error: unexpected {type(exc).__name__} (a bug; please report it, "
            f"with {ENV_TRACEBACK}=1 set to show where it happened)",
            file=sys.stderr,
        )
        return EXIT_FAILED


def report(exc: EcsNotebookError) -> int:
    """Print an error (and its hint) on stderr; return the exit status its class declares."""
    if isinstance(exc, InputError):
        print_problems(exc)
    else:
        print(f"error: {exc}", file=sys.stderr)
        if exc.nothing_sent and "nothing was sent" not in str(exc):
            print("nothing was sent", file=sys.stderr)
    if exc.hint:
        print(f"hint: {exc.hint}", file=sys.stderr)
    code = getattr(exc, "exit_code", EXIT_FAILED)
    return code if isinstance(code, int) else EXIT_FAILED


def _flush() -> None:
    sys.stdout.flush()


def _quiet_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so exiting does not complain again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


__all__ = ["build_parser", "main", "report"]
