"""The job table follows the book, stays light at scale, and stops when every row is final."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from support.sim import FAST, keypair_request

from ecs_notebook.client import SyncEcsClient
from ecs_notebook.fleet import FleetRun, JobBook, JobRecord
from ecs_notebook.simulator import Simulator
from ecs_notebook.widgets import FleetPicture, JobTable
from ecs_notebook.widgets.styles import colour
from ecs_notebook.widgets.testing import CommRecorder, send_from_browser

BUDGET = 50 * 1024
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def big_book(n: int) -> JobBook:
    book = JobBook()
    for i in range(n):
        book.add(JobRecord(key=f"k{i:05d}", server_id=f"srv-{i:05d}", server_name=f"web-{i:05d}"))
    book.notify()
    return book


def advance(book: JobBook, rng: random.Random, n: int, step: int) -> None:
    keys = rng.sample([r.key for r in book.iter_live() if r.status == "PLANNED"], n)
    for key in keys:
        book.update(key, status="SUBMITTING", submitted=NOW + timedelta(seconds=step))


def test_job_table_reaches_success_against_the_simulator_and_stops_refreshing(
    sim: Simulator, client: SyncEcsClient, tmp_path: Path, recorder: CommRecorder
) -> None:
    run = FleetRun(client, tmp_path / "run.jsonl", schedule=FAST)
    plan = run.plan(keypair_request(sim))
    table = JobTable(run.book)
    assert table.refreshing and table.status_counts() == {}
    run.start(plan.confirm(plan.count), keypair_request(sim))
    assert table.wait(60)
    run.wait(30)
    assert table.status_counts() == {"SUCCESS": 12}
    assert not table.refreshing and table.refreshes > 1
    assert table.table.value.count('<tr class="s-SUCCESS">') == 12
    assert "SUCCESS 12" in table.counts.value and "finished" in table.state.value
    assert table.picture.draws >= 1 and table.picture.series()["SUCCESS"][-1] == 12
    assert "12 of 12 finished" in table.progress_view.value
    mark = recorder.mark()
    run.book.update(plan.targets[0].id, note="touched after the end")
    run.book.notify()
    assert recorder.since(mark) == []  # no longer listening


@pytest.mark.parametrize(("sort", "descending"), [("added", False), ("submitted", True)])
def test_a_refresh_with_10000_rows_and_100_changes_sends_under_50_kb(
    recorder: CommRecorder, sort: str, descending: bool
) -> None:
    book = big_book(10_000)
    # Redraw the picture every time (worst case); no ticker thread during the measurement.
    table = JobTable(book, picture_every=0, tick_every=None)
    table.sort.value = sort
    table.descending.value = descending
    rng = random.Random(3)
    sizes = []
    for step in range(5):
        advance(book, rng, 100, step)
        mark = recorder.mark()
        book.notify()
        sizes.append(recorder.bytes_since(mark))
    assert table.refreshes == 5
    assert 0 < max(sizes) < BUDGET
    if descending:  # newest first: the changed rows are on the page every time
        assert all(size > 5_000 for size in sizes)
    assert table.status_counts() == {"PLANNED": 9_500, "SUBMITTING": 500}


def test_changes_off_the_page_send_only_counts(recorder: CommRecorder) -> None:
    book = big_book(2_000)
    table = JobTable(book, picture_every=3600, tick_every=None)
    shown = set(table.visible_keys())
    key = next(r.key for r in book.records()[1000:] if r.key not in shown)
    mark = recorder.mark()
    book.update(key, note="a note")
    book.notify()
    assert recorder.since(mark) == []  # nothing visible changed
    book.update(key, status="SUBMITTING")
    book.notify()
    changed = {m.comm_id for m in recorder.since(mark)}
    assert table.table.comm.comm_id not in changed and table.counts.comm.comm_id in changed


def failing_book() -> JobBook:
    book = JobBook()
    statuses = ["SUCCESS", "FAIL", "RUNNING", "SKIPPED", "REFUSED", "SUCCESS"]
    for i, status in enumerate(statuses):
        book.add(
            JobRecord(key=f"k{i}", server_id=f"srv-{i}", server_name=f"n{5 - i}", status=status)
        )
    book.update("k1", error_code="Ecs.0007", fail_reason="cloud-init not found", job_id="j1")
    book.update("k3", note="locked (unlock it first; the API refuses with Ecs.0605)")
    book.update("k4", error_code="Ecs.0605", fail_reason="server is locked")
    book.notify()
    return book


def test_status_colours_counts_codes_and_reasons_are_in_view() -> None:
    table = JobTable(failing_book())
    html = table.table.value
    assert '<tr class="s-FAIL">' in html and 'class="ecs-st">FAIL</b>' in html
    assert "Ecs.0007" in html and "cloud-init not found" in html and "locked (unlock" in html
    for chip in ("SUCCESS 2", "FAIL 1", "RUNNING 1", "SKIPPED 1", "REFUSED 1"):
        assert chip in table.counts.value
    assert "6 rows" in table.counts.value
    assert table.refreshing  # one row is still running


def test_filter_search_sort_and_pages() -> None:
    table = JobTable(failing_book(), page_size=2)
    assert table.visible_keys() == ("k0", "k1")
    assert "page 1 of 3" in table.page_label.value
    table.next_button.click()
    assert table.visible_keys() == ("k2", "k3")
    table.status_filter.value = "not reinstalled"
    assert table.page == 0 and table.visible_keys() == ("k1", "k3")
    table.next_button.click()
    assert table.visible_keys() == ("k4",)
    table.status_filter.value = "all"
    send_from_browser(table.search, value="ecs.06")
    assert table.visible_keys() == ("k3", "k4")
    send_from_browser(table.search, value="")
    table.sort.value = "server name"
    assert table.visible_keys() == ("k5", "k4")
    table.sort.value = "status"
    table.descending.value = True
    assert table.visible_keys() == ("k3", "k4")  # SKIPPED, REFUSED: the last statuses
    table.sort.value = "error code"
    table.descending.value = False
    assert table.visible_keys() == ("k1", "k4")  # rows without a code go last


def test_a_display_error_never_reaches_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    book = failing_book()
    table = JobTable(book)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(table, "_render", broken)
    book.update("k2", status="SUCCESS")
    book.notify()  # must not raise into the poller's thread
    assert isinstance(table.error, RuntimeError) and "boom" in table.state.value


def test_picture_stays_small_however_long_the_run(recorder: CommRecorder) -> None:
    picture = FleetPicture()
    for t in range(5_000):
        done = min(10_000, t * 3)
        picture.add(t * 0.25, {"SUCCESS": done, "RUNNING": 100, "PLANNED": 10_000 - done})
    mark = recorder.mark()
    picture.draw(now=1300.0)
    sent = recorder.bytes_since(mark)
    assert len(picture.history.samples) <= 4 * picture.history.max_points
    assert 0 < sent < 5_000  # one update of the picture, whatever the fleet's size
    assert picture.x_scale.max == 1300.0  # the time axis reaches "now", past the last sample
    series = picture.series()
    assert list(series) == ["SUCCESS", "RUNNING", "PLANNED"]  # bottom band first
    # The legend (under the plot): the same statuses, in the same order, in their colours.
    items = re.findall(r"background:(#[0-9a-f]+)\"></span>(\w+)</span>", picture.legend.value)
    assert items == [(colour(s), s) for s in ("SUCCESS", "RUNNING", "PLANNED")]
    mark = recorder.mark()
    picture.add(1300.0, {"SUCCESS": 10_000})
    picture.draw(now=1301.0)
    assert "RUNNING" in picture.legend.value  # what was drawn stays explained
    assert "ecs-legend-item" not in "".join(m.text for m in recorder.since(mark))  # unchanged
    assert series["SUCCESS"][-1] == 10_000 and series["RUNNING"][-1] == 100
    assert series["PLANNED"][0] == 10_000 and series["SUCCESS"][0] == 0


def test_picture_draws_marks_for_waves(recorder: CommRecorder) -> None:
    picture = FleetPicture()
    picture.add(0.0, {"PLANNED": 4})
    picture.add(10.0, {"PLANNED": 2, "RUNNING": 2})
    picture.mark(5.0, "wave 2")
    picture.mark(5.25, "wave 3")  # close behind: its label sits lower, not on top of wave 2's
    picture.draw(now=12.0)
    assert list(picture.rule_labels.text) == ["wave 2", "wave 3"]
    assert picture.rules.x.ravel().tolist() == [5.0, 5.0, 5.25, 5.25]
    high, low = picture.rule_labels.y
    assert high == picture.y_scale.max == 4 and low < high


def test_rows_added_after_attaching_keep_the_book_order() -> None:
    book = JobBook()
    table = JobTable(book)
    assert not table.finished and "no rows" in table.table.value
    keys = [f"k{i:02d}" for i in range(30)]
    for key in keys:
        book.add(JobRecord(key=key, server_id=key))
    book.notify()  # one notice with every new key, in no particular order
    assert table.visible_keys() == tuple(keys)
    assert table.status_counts() == {"PLANNED": 30} and table.refreshing
