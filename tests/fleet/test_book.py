"""The job book: dtypes, snapshots that cannot mutate it, change notices, CSV round trip."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from ecs_notebook.fleet import BookChange, JobBook, JobRecord, read_csv


def _book(n: int = 3) -> JobBook:
    book = JobBook()
    for i in range(n):
        book.add(JobRecord(key=f"k{i}", server_id=f"s{i}", server_name=f"web-{i}"))
    return book


def test_frame_has_proper_dtypes() -> None:
    book = _book()
    now = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    book.update(
        "k1", status="SUCCESS", job_id="j1", begin_time=now, end_time=now + timedelta(seconds=42)
    )
    frame = book.snapshot()
    assert isinstance(frame["status"].dtype, pd.CategoricalDtype)
    assert str(frame["begin_time"].dtype) == "datetime64[us, UTC]"
    assert frame.loc["k1", "duration"] == pd.Timedelta(seconds=42)
    assert frame["attempts"].dtype == "int64"
    assert list(frame.index) == ["k0", "k1", "k2"]


def test_unknown_job_statuses_are_kept_as_categories() -> None:
    book = _book(1)
    book.update("k0", status="PAUSED_BY_OPS")
    assert book.snapshot().loc["k0", "status"] == "PAUSED_BY_OPS"


def test_snapshot_is_a_copy() -> None:
    book = _book()
    frame = book.snapshot()
    frame.loc["k0", "server_name"] = "changed"
    frame["status"] = "FAIL"
    fresh = book.snapshot()
    assert fresh.loc["k0", "server_name"] == "web-0"
    assert set(fresh["status"]) == {"PLANNED"}
    record = book.get("k0")
    record.status = "FAIL"
    assert book.get("k0").status == "PLANNED"


def test_listeners_hear_only_rows_that_changed() -> None:
    book = _book(5)
    heard: list[BookChange] = []
    book.subscribe(heard.append)
    book.notify()
    book.update("k2", status="RUNNING")
    book.update("k4", status="RUNNING")
    book.update("k3", status="PLANNED")  # no real change
    book.notify()
    assert book.notify() is None  # nothing new
    assert [c.keys for c in heard] == [
        frozenset({"k0", "k1", "k2", "k3", "k4"}),
        frozenset({"k2", "k4"}),
    ]
    assert [c.version for c in heard] == [1, 2]
    assert list(book.rows(heard[-1].keys).sort_index().index) == ["k2", "k4"]


def test_csv_round_trip(tmp_path: Path) -> None:
    book = _book()
    now = datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=timezone.utc)
    book.update(
        "k0",
        status="FAIL",
        job_id="j0",
        submitted=now,
        begin_time=now,
        end_time=now + timedelta(minutes=3),
        error_code="Ecs.1000",
        fail_reason="nova, timeout",
        messages=("a", "b"),
        attempts=1,
        polls=4,
    )
    path = tmp_path / "jobs.csv"
    book.to_csv(path)
    pd.testing.assert_frame_equal(read_csv(path), book.snapshot())


def test_counts_list_every_status() -> None:
    book = _book()
    book.update("k0", status="SUCCESS")
    counts = book.counts()
    assert counts["SUCCESS"] == 1 and counts["PLANNED"] == 2 and counts["FAIL"] == 0
