"""The staged-rollout flags: parsed into a Rollout, or refused with exit 2 naming the flag."""

from __future__ import annotations

import argparse

import pytest

from ecs_notebook.cli.rollout_args import (
    add_rollout_arguments,
    bake_arg,
    max_errors_arg,
    rollout_from_args,
    waves_arg,
)
from ecs_notebook.fleet.rollout import Rollout


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ecs-notebook reinstall")
    add_rollout_arguments(p)
    return p


def test_the_flags_make_a_rollout() -> None:
    args = parser().parse_args(
        ["--waves", "1,10,25%", "--max-errors", "2%", "--bake", "60", "--no-verify"]
    )
    assert rollout_from_args(args) == Rollout(
        waves=[1, 10, "25%"], max_errors="2%", bake=60, verify=False
    )
    plain = rollout_from_args(parser().parse_args([]))
    assert plain == Rollout() and not plain.staged and plain.verify
    assert rollout_from_args(parser().parse_args(["--pause-between-waves"])).pause_between_waves
    assert parser().parse_args(["--max-errors", "0"]).max_errors == 0


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--waves", "150%"], "wave size 1"),
        (["--waves", "0"], "at least 1"),
        (["--waves", ""], "empty"),
        (["--waves", "abc"], "'abc'"),
        (["--max-errors", "-1"], "'-1'"),
        (["--max-errors", "abc"], "max errors"),
        (["--bake", "-5"], "0 or more"),
        (["--bake", "soon"], "'soon'"),
    ],
)
def test_a_bad_flag_exits_2_naming_it(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        parser().parse_args(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {argv[0]}" in err and says in err


def test_the_type_callables_give_canonical_values() -> None:
    assert waves_arg(" 1, 10 ,25.0% ") == (1, 10, "25%")
    assert max_errors_arg("3") == 3 and max_errors_arg("2%") == "2%"
    assert bake_arg("1.5") == 1.5
    with pytest.raises(argparse.ArgumentTypeError, match="wave size 2"):
        waves_arg("1,x")
