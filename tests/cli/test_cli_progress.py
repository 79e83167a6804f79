"""Progress on stderr: plain lines when not a terminal, a tqdm bar on one."""

from __future__ import annotations

import io

from ecs_notebook.cli.progress import QUIET_EVERY, ProgressReporter, bar_hidden, say
from ecs_notebook.fleet.progress import RunProgress


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def progress(counts: dict[str, int], finished: int, eta: float | None = None) -> RunProgress:
    return RunProgress(counts, sum(counts.values()), finished, 0.0, eta, None)


def test_plain_lines_when_counts_change_and_every_30_s_while_quiet() -> None:
    out, clock = io.StringIO(), FakeClock()
    with ProgressReporter(4, stream=out, tty=False, clock=clock) as reporter:
        reporter.update(progress({"PLANNED": 4}, 0))
        reporter.update(progress({"PLANNED": 4}, 0))  # no change: no line
        assert reporter.lines == 1
        clock.now += QUIET_EVERY - 1
        reporter.tick()
        assert reporter.lines == 1  # quiet for 29 s: nothing yet
        clock.now += 1
        reporter.tick()
        assert reporter.lines == 2  # 30 s without a line: the same counts again
        clock.now += 35
        reporter.update(progress({"RUNNING": 2, "SUCCESS": 2}, 2, eta=65))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0] == "progress: 0/4 servers finished · PLANNED 4 · elapsed 0:00"
    assert lines[1].endswith("elapsed 0:30")
    assert lines[2] == (
        "progress: 2/4 servers finished · RUNNING 2, SUCCESS 2 · elapsed 1:05 · ETA 1:05"
    )


def test_a_terminal_gets_a_live_bar_with_counts_elapsed_and_eta() -> None:
    out = io.StringIO()
    with ProgressReporter(4, stream=out, tty=True, what="jobs") as reporter:
        reporter.update(progress({"RUNNING": 3, "SUCCESS": 1}, 1, eta=90))
    text = out.getvalue()
    assert "\r" in text and "1/4" in text  # redrawn in place
    assert "RUNNING 3, SUCCESS 1 · ETA 1:30" in text
    assert "[00:00, RUNNING 3" in text  # elapsed, then our ETA: not tqdm's "<remaining"
    assert "<" not in text
    assert reporter.lines == 0  # no plain lines on a terminal


def test_a_message_during_the_bar_gets_a_line_of_its_own() -> None:
    out = io.StringIO()
    with ProgressReporter(4, stream=out, tty=True) as reporter:
        reporter.update(progress({"RUNNING": 4}, 0))
        say("notice: the journal was replaced")
        reporter.update(progress({"RUNNING": 3, "SUCCESS": 1}, 1))
    say("after the bar")  # no live bar: straight to stderr (not to this stream)
    segments = [part for line in out.getvalue().split("\n") for part in line.split("\r")]
    assert "notice: the journal was replaced" in [s.strip("\x1b[A") for s in segments]
    assert "after the bar" not in out.getvalue()


def test_the_bar_stays_off_the_terminal_while_the_operator_is_asked() -> None:
    out = io.StringIO()
    with ProgressReporter(4, stream=out, tty=True) as reporter:
        reporter.update(progress({"RUNNING": 4}, 0))
        with bar_hidden():
            asked_at = len(out.getvalue())
            reporter.update(progress({"RUNNING": 3, "SUCCESS": 1}, 1))
            reporter.tick()
            assert "SUCCESS 1" not in out.getvalue()[asked_at:]  # nothing drawn over a prompt
        assert "SUCCESS 1" in out.getvalue()[asked_at:]  # drawn again, up to date
