"""The staged-rollout flags of ``reinstall`` (``--waves``, ``--max-errors``, ``--bake``,
``--no-verify``, ``--pause-between-waves``) and the :class:`Rollout` they make.

Each ``type=`` callable checks its value with the rule the :class:`Rollout` value uses, so
a bad flag exits with status 2 (argparse's usage error) naming the flag, and sends nothing.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..fleet.rollout import Amount, Rollout, RolloutError, parse_amount


def waves_arg(text: str) -> tuple[Amount, ...]:
    """``--waves SIZES`` (argparse ``type=``): ``1,10,25%`` -> ``(1, 10, "25%")``."""
    try:
        return Rollout(waves=text).waves
    except RolloutError as exc:
        raise argparse.ArgumentTypeError(exc.problems[0].message) from None


def max_errors_arg(text: str) -> Amount:
    """``--max-errors N|P%`` (argparse ``type=``): ``3`` -> ``3``, ``2%`` -> ``"2%"``."""
    try:
        return parse_amount(text, what="max errors", minimum=0)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def bake_arg(text: str) -> float:
    """``--bake SECONDS`` (argparse ``type=``): 0 or more seconds."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"bake must be a number of seconds, not {text!r}"
        ) from None
    try:
        return Rollout(bake=seconds).bake
    except RolloutError as exc:
        raise argparse.ArgumentTypeError(exc.problems[0].message) from None


def add_rollout_arguments(parser: Any) -> None:
    """Add the staged-rollout flags to ``parser`` (an ``ArgumentParser`` or a group)."""
    group = (
        parser.add_argument_group("staged rollout")
        if hasattr(parser, "add_argument_group")
        else parser
    )
    group.add_argument(
        "--waves",
        type=waves_arg,
        metavar="SIZES",
        help="wave sizes, counts or percentages of the plan, the last repeating (1,10,25%%)",
    )
    group.add_argument(
        "--max-errors",
        type=max_errors_arg,
        metavar="N|P%",
        help="halt (exit 3) once errors pass N, or P%% of the plan (default with --waves: 0)",
    )
    group.add_argument(
        "--bake",
        type=bake_arg,
        default=0.0,
        metavar="SECONDS",
        help="wait this long after a wave has passed before the next starts",
    )
    group.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="do not check each server's state after its job's SUCCESS",
    )
    group.add_argument(
        "--pause-between-waves", action="store_true", help="ask on the terminal before each wave"
    )


def rollout_from_args(args: argparse.Namespace) -> Rollout:
    """The :class:`Rollout` the parsed flags describe."""
    return Rollout(
        waves=args.waves,
        max_errors=args.max_errors,
        bake=args.bake,
        verify=args.verify,
        pause_between_waves=args.pause_between_waves,
    )
