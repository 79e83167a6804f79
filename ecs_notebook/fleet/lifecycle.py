"""Run-lifecycle rules shared by the CLI, the console and scripts, defined once.

- where a new run's journal goes (:func:`new_journal_path`);
- a new run never reuses a journal that already holds a run (:func:`check_new_journal`);
- one run at a time in one console (:func:`check_no_run_in_progress`);
- a run starts at most once (:class:`RunStartedError`);
- what "not reinstalled" means (:data:`~.records.NOT_REINSTALLED`, :class:`~.run.Summary`);
- the exit codes the CLI reports for a run (:data:`EXIT_CODES`).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ..errors import EcsNotebookError

if TYPE_CHECKING:
    from .run import FleetRun

DEFAULT_JOURNAL_DIR: Final = Path("ecs-notebook-runs")

#: The exit statuses of every ``ecs-notebook`` command, defined once (``--help``, README).
#: When several apply: 130, then 3, then 1, then 0.
EXIT_OK: Final = 0  # every planned server reinstalled (a query: answered)
EXIT_NOT_ALL: Final = 1  # the run ended; some servers were not reinstalled (each with its reason)
EXIT_REFUSED: Final = 2  # refused before sending anything
EXIT_HALTED: Final = 3  # a staged rollout halted by its error budget
EXIT_PAUSED: Final = 130  # paused by Ctrl-C: resume continues it
EXIT_CODES: Final = {
    EXIT_OK: "done: every planned server reinstalled (for job and servers: answered)",
    EXIT_NOT_ALL: "the run ended but some servers were not reinstalled, each listed with its "
    "reason (a failed job, a refusal, a network failure, an outcome that needs checking)",
    EXIT_REFUSED: "refused before sending anything (invalid input, confirmation mismatch, "
    "journal in use, target or password mismatch, damaged journal)",
    EXIT_HALTED: "halted by the error budget of a staged rollout (--max-errors; with --waves "
    "the default is 0): nothing new was sent, the rest is held (resume --proceed continues)",
    EXIT_PAUSED: "paused by Ctrl-C (continue with: ecs-notebook resume --journal J)",
}


class RunRefusedError(EcsNotebookError):
    """A run (or resume) was refused before anything was sent."""

    exit_code = EXIT_REFUSED
    nothing_sent = True


class JournalExistsError(RunRefusedError):
    """A new run was given a journal that already holds a run."""


class RunInProgressError(RunRefusedError):
    """Another run of the same console is still going."""


class RunStartedError(RunRefusedError):
    """A run object was asked to start a second time."""


def resume_command(journal: Path | str, *, password: bool = False) -> str:
    """The exact command that continues a run."""
    tail = " --password-stdin" if password else ""
    return f"ecs-notebook resume --journal {journal}{tail}"


def new_journal_path(where: str | os.PathLike[str] = DEFAULT_JOURNAL_DIR, n: int = 1) -> Path:
    """The journal of a new run: ``where`` itself if it is a ``.jsonl`` file (with ``-n``
    for the n-th run), else a new time-stamped file in the directory ``where``."""
    where = Path(where)
    if where.suffix == ".jsonl":
        return where if n == 1 else where.with_stem(f"{where.stem}-{n}")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return where / f"reinstall-{stamp}-{os.getpid()}-{n}.jsonl"


def check_new_journal(path: str | os.PathLike[str]) -> None:
    """Refuse a journal that already holds a run (it is resumed, never started again)."""
    path = Path(path)
    if path.exists() and path.stat().st_size:
        raise JournalExistsError(
            f"journal {path} already holds a run: resume it "
            f"({resume_command(path)}) or give another journal; nothing was sent"
        )


def check_no_run_in_progress(run: FleetRun | None) -> None:
    """Refuse to plan another run while ``run`` is still going."""
    if run is not None and run.running:
        raise RunInProgressError(
            "a run is in progress: wait for it to end, or pause or cancel it first"
        )
