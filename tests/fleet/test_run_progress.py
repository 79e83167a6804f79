"""Elapsed time and ETA from the durations seen so far (``fleet.progress``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ecs_notebook.fleet import JobRecord
from ecs_notebook.fleet.progress import CountsHistory, clock_text, measure

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def row(i: int, status: str, **times: float) -> JobRecord:
    return JobRecord(
        key=f"k{i}",
        server_id=f"s{i}",
        status=status,
        **{k: at(v) for k, v in times.items()},  # type: ignore[arg-type]
    )


def test_no_eta_until_a_job_has_finished() -> None:
    rows = [row(0, "RUNNING", submitted=0, begin_time=1), row(1, "PLANNED")]
    p = measure(rows, at(30))
    assert p.elapsed == 30 and p.eta is None and p.finished == 0 and p.total == 2
    assert "ETA after the first job ends" in p.describe()


def test_eta_from_the_median_duration_the_ages_and_the_sending_pace() -> None:
    rows = [
        # finished: durations 40, 60, 50 -> median 50
        row(0, "SUCCESS", submitted=0, begin_time=0, end_time=40),
        row(1, "FAIL", submitted=0, begin_time=0, end_time=60),
        row(2, "SUCCESS", submitted=10, begin_time=10, end_time=60),
        # in flight since 50 s: at 70 s it needs 50 - 20 = 30 s more
        row(3, "RUNNING", submitted=50, begin_time=50),
    ]
    p = measure(rows, at(70))
    assert p.typical_duration == 50 and p.elapsed == 70 and p.eta == 30
    # Two servers still to send: 4 sent in 70 s -> 35 s to send them, then 50 s to run.
    rows += [row(4, "PLANNED"), row(5, "SUBMITTING")]
    p = measure(rows, at(70))
    assert p.eta == 35 + 50
    assert p.describe() == "3 of 6 finished · elapsed 1:10 · ETA 1:25"


def test_a_job_older_than_the_typical_duration_is_due_now() -> None:
    rows = [
        row(0, "SUCCESS", submitted=0, begin_time=0, end_time=10),
        row(1, "RUNNING", submitted=0, begin_time=0),
    ]
    assert measure(rows, at(100)).eta == 0


def test_a_finished_run_says_so_without_an_eta() -> None:
    rows = [row(0, "SUCCESS", submitted=0, begin_time=0, end_time=10), row(1, "SKIPPED")]
    p = measure(rows, at(3725))
    assert p.done and p.describe() == "2 of 2 finished · elapsed 1:02:05"
    assert clock_text(59.6) == "1:00"


def test_history_stays_bounded_and_keeps_the_last_sample() -> None:
    history = CountsHistory(max_points=10)
    for t in range(1000):
        history.add(float(t), {"RUNNING": t, "SUCCESS": 0})
    assert len(history.samples) <= 40 and history.samples[-1] == (999.0, {"RUNNING": 999})
    points = history.points()
    assert len(points) == 10 and points[0][0] == 0.0 and points[-1][0] == 999.0
