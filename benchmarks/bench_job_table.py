"""Benchmark: refreshing the job table with 10,000 jobs, 100 rows changing per refresh.

Measures what one refresh sends to the browser (bytes, recorded at the comm) and costs in
the kernel (ms, the book's change notice from ``notify()`` to the last widget update), for
:class:`JobTable` and, in the same run, for a naive view that re-renders the whole book
with ``DataFrame.to_html`` into one HTML widget. Prints both and the ratios; no assertions.

    .venv/bin/python benchmarks/bench_job_table.py [--jobs 10000] [--changed 100] [--refreshes 40]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from ecs_notebook.fleet import BookChange, JobBook, JobRecord
from ecs_notebook.widgets.testing import CommRecorder

#: The path a reinstall takes through the book.
STEPS = ("PLANNED", "SUBMITTING", "INIT", "RUNNING", "SUCCESS")


def make_book(jobs: int) -> JobBook:
    """A book of ``jobs`` planned rows."""
    book = JobBook()
    for i in range(jobs):
        sid = f"{i:08d}-0000-4000-8000-{i:012d}"
        book.add(JobRecord(key=sid, server_id=sid, server_name=f"web-{i:05d}"))
    book.notify()
    return book


def advance(book: JobBook, rng: random.Random, changed: int) -> None:
    """Move ``changed`` random unfinished rows one step forward (some fail)."""
    now = datetime.now(timezone.utc)
    live = [r for r in book.iter_live() if r.status not in ("SUCCESS", "FAIL")]
    for record in rng.sample(live, min(changed, len(live))):
        step = STEPS[STEPS.index(record.status) + 1]
        changes: dict[str, Any] = {"status": step}
        if step == "SUBMITTING":
            changes["submitted"] = now
        elif step == "INIT":
            changes["job_id"] = f"{rng.getrandbits(128):032x}"
            changes["begin_time"] = now
        elif step == "SUCCESS":
            changes["end_time"] = now + timedelta(seconds=rng.uniform(30, 300))
            if rng.random() < 0.05:
                changes.update(
                    status="FAIL", error_code="Ecs.0007", fail_reason="cloud-init did not start"
                )
        book.update(record.key, **changes)


def measure(
    name: str, attach: Callable[[JobBook], Any], jobs: int, changed: int, refreshes: int
) -> tuple[float, float, float]:
    """Median bytes and ms per refresh, and the worst ms, for one view (prints all four)."""
    recorder = CommRecorder().install()
    try:
        book = make_book(jobs)
        view = attach(book)
        rng = random.Random(1)
        sizes, times = [], []
        for _ in range(refreshes):
            advance(book, rng, changed)
            mark = recorder.mark()
            started = time.perf_counter()
            book.notify()  # the listener runs here, as on the run's thread
            times.append((time.perf_counter() - started) * 1000)
            sizes.append(recorder.bytes_since(mark))
        del view
    finally:
        recorder.uninstall()
    median_bytes, median_ms = statistics.median(sizes), statistics.median(times)
    print(
        f"{name:<34} {median_bytes / 1024:9.1f} KB/refresh (max {max(sizes) / 1024:8.1f})"
        f" {median_ms:8.2f} ms/refresh (max {max(times):8.2f})"
    )
    return median_bytes, median_ms, max(times)


def naive(book: JobBook) -> Any:
    """The baseline: the whole book as one HTML table, re-rendered on every change."""
    import ipywidgets as widgets

    view = widgets.HTML(book.snapshot().to_html())

    def refresh(_change: BookChange) -> None:
        view.value = book.snapshot().to_html()

    book.subscribe(refresh)
    return view


def table(sort: str = "added", descending: bool = False) -> Callable[[JobBook], Any]:
    """The job table, optionally sorted (a sorted view re-orders on every refresh).

    The fleet picture is redrawn on every refresh here (``picture_every=0``; the default is
    at most once a second), so the bytes are an upper bound; no ticker thread runs.
    """

    def attach(book: JobBook) -> Any:
        from ecs_notebook.widgets import JobTable

        view = JobTable(book, picture_every=0, tick_every=None)
        view.sort.value = sort
        view.descending.value = descending
        return view

    return attach


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--refreshes", type=int, default=40)
    parser.add_argument("--naive-refreshes", type=int, default=5, help="the baseline is slow")
    args = parser.parse_args()
    print(
        f"{args.jobs:,} jobs, {args.changed} rows changed per refresh, {args.refreshes} refreshes"
    )
    base_bytes, base_ms, _ = measure(
        "naive (DataFrame.to_html)", naive, args.jobs, args.changed, args.naive_refreshes
    )
    for label, attach in (
        ("JobTable (book order)", table()),
        ("JobTable (sorted by status)", table("status")),
        # Rows just submitted jump to the top: the visible page changes on every refresh.
        ("JobTable (newest submitted first)", table("submitted", descending=True)),
    ):
        size, ms, worst = measure(label, attach, args.jobs, args.changed, args.refreshes)
        print(
            f"  -> {base_bytes / max(size, 1):,.0f}x fewer bytes, {base_ms / ms:,.0f}x less "
            f"kernel time than naive (budget: 50 KB, 20 ms; worst {worst:.1f} ms)"
        )


if __name__ == "__main__":
    main()
