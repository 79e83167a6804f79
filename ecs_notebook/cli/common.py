"""What the subcommands share: exit codes, number and file checks, the target options."""

from __future__ import annotations

import argparse
import math
import os
import sys
import textwrap
from pathlib import Path
from typing import IO, Final

from ..client import EcsClient, RateLimiter
from ..errors import InputError
from ..fleet import lifecycle
from ..model import ValidationError, check_project_id
from ..regions import Endpoints, resolve_endpoints

EXIT_OK: Final = lifecycle.EXIT_OK
EXIT_FAILED: Final = lifecycle.EXIT_NOT_ALL
EXIT_USAGE: Final = lifecycle.EXIT_REFUSED
EXIT_INTERRUPTED: Final = lifecycle.EXIT_PAUSED

#: The exit statuses, as ``--help`` and the README list them (defined once, in the fleet).
EXIT_CODES_HELP: Final = "exit status:\n" + "\n".join(
    textwrap.fill(text, 78, initial_indent=f"  {code:<5}", subsequent_indent=" " * 7)
    for code, text in lifecycle.EXIT_CODES.items()
)

#: Files named on the command line are read up to this size (server id lists, user data).
MAX_FILE_BYTES: Final = 10 * 1024 * 1024
#: The admin password line read from stdin is at most this long.
MAX_PASSWORD_LINE: Final = 1024


class UsageError(InputError):
    """Bad command-line input: reported with exit status 2, nothing sent."""


# -- numbers -----------------------------------------------------------------------------


def positive_int(text: str) -> int:
    """An ``argparse`` type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, not {text!r}")
    return value


def positive_number(text: str) -> float:
    """An ``argparse`` type: a finite number > 0 (seconds, requests per second)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, not {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, not {text!r}")
    return value


# -- files -------------------------------------------------------------------------------


def read_file_bytes(path: str, flag: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """A file's bytes, at most ``limit`` of them; a :class:`UsageError` naming ``flag`` else."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"{flag}: cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise UsageError(f"{flag}: {path} is larger than {limit:,} bytes")
    return data


def read_text_file(path: str, flag: str, limit: int = MAX_FILE_BYTES) -> str:
    """A UTF-8 text file (a leading BOM is fine), read with a size cap."""
    data = read_file_bytes(path, flag, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{flag}: {path} is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})"
        ) from None


def read_stdin_line(stdin: IO[str], flag: str) -> str:
    """One line of stdin, capped, without its line ending."""
    try:
        line = stdin.readline(MAX_PASSWORD_LINE + 1)
    except UnicodeDecodeError:
        raise UsageError(f"{flag}: stdin is not UTF-8 text") from None
    if len(line.rstrip("\r\n")) > MAX_PASSWORD_LINE:
        raise UsageError(f"{flag}: the line on stdin is longer than {MAX_PASSWORD_LINE} characters")
    return line.rstrip("\r\n")


def check_writable(path: str, flag: str) -> None:
    """Fail now, before a run, when ``path`` cannot be written later."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise UsageError(f"{flag}: {path} is a directory")
    if not parent.is_dir():
        raise UsageError(f"{flag}: the folder {parent} does not exist")
    if not os.access(target if target.exists() else parent, os.W_OK):
        raise UsageError(f"{flag}: {path} cannot be written (permission denied)")


# -- the target --------------------------------------------------------------------------


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


def check_target(args: argparse.Namespace) -> Endpoints:
    """The endpoints the target options name, checked as a real run checks them.

    ``--dry-run`` calls this too, so it refuses what a real run would refuse.
    """
    project_id = args.project_id
    if project_id is None:
        project_id = os.environ.get("HUAWEICLOUD_SDK_PROJECT_ID") or None
    if project_id is not None and (problems := check_project_id(project_id)):
        raise ValidationError(problems)
    return resolve_endpoints(args.region, endpoint=args.endpoint)


def connect(args: argparse.Namespace, rate_limit: float | None = None) -> EcsClient:
    """A client for the target options (credentials from the environment or file)."""
    check_target(args)
    limiter = RateLimiter(rate_limit) if rate_limit else None
    return EcsClient.connect(
        args.region, endpoint=args.endpoint, project_id=args.project_id, rate_limiter=limiter
    )


def print_problems(exc: InputError) -> None:
    """Report bad input on stderr, each field named, and say that nothing was sent."""
    if isinstance(exc, ValidationError):
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
    else:
        print(f"error: {exc}", file=sys.stderr)
    if "nothing was sent" not in str(exc):
        print("nothing was sent", file=sys.stderr)
