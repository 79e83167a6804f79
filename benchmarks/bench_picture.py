"""Benchmark: the fleet picture's bytes per update at 10,000 rows, next to the job table's.

Plays a run of 10,000 jobs through a :class:`JobBook` (100 rows changing per refresh, so
the counts change every time) and records what each view sends to the browser:

* the job table's refresh (its page, counts and progress line; the picture left out);
* the picture drawn with bqplot (:class:`FleetPicture`, the one the console uses);
* the same picture with plotly's ``FigureWidget`` (stacked areas), when plotly is installed.

Both pictures draw the same samples (``CountsHistory.points()``, at most 60 per draw). The
budget is the job table's: 50 KB per refresh. Prints medians and maxima; no assertions.

    .venv/bin/python benchmarks/bench_picture.py [--jobs 10000] [--changed 100] [--refreshes 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import warnings
from collections.abc import Callable
from typing import Any

from bench_job_table import advance, make_book

from ecs_notebook.fleet import JobBook
from ecs_notebook.fleet.progress import CountsHistory
from ecs_notebook.widgets.picture import STACK_ORDER
from ecs_notebook.widgets.testing import CommRecorder

BUDGET_KB = 50.0


def plotly_view() -> Callable[[CountsHistory], None] | None:
    """A stacked-area plotly FigureWidget drawing the same points (``None`` without plotly)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import plotly.graph_objects as go

            figure = go.FigureWidget()
    except Exception:  # plotly (or anywidget) not installed
        return None
    traces: dict[str, Any] = {}

    def draw(history: CountsHistory) -> None:
        points = history.points()
        xs = [t for t, _ in points]
        with figure.batch_update():
            for status in STACK_ORDER:
                ys = [c.get(status, 0) for _, c in points]
                if status not in traces:
                    if not any(ys):
                        continue
                    figure.add_scatter(name=status, stackgroup="fleet", mode="lines")
                    traces[status] = figure.data[-1]
                traces[status].x = xs
                traces[status].y = ys

    return draw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--refreshes", type=int, default=200)
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 2,000 jobs, 30 refreshes"
    )
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.refreshes = 2_000, 30
    recorder = CommRecorder().install()
    try:
        from ecs_notebook.widgets import FleetPicture, JobTable

        book: JobBook = make_book(args.jobs)
        # The table draws no picture here: the picture is measured on its own.
        table = JobTable(book, picture_every=3600, tick_every=None)
        picture = FleetPicture()
        plotly_draw = plotly_view()
        plotly_history = CountsHistory()
        rng = random.Random(1)
        sizes: dict[str, list[int]] = {"table": [], "bqplot": [], "plotly": []}
        for step in range(args.refreshes):
            advance(book, rng, args.changed)
            mark = recorder.mark()
            book.notify()
            sizes["table"].append(recorder.bytes_since(mark))
            counts = book.counts()
            mark = recorder.mark()
            picture.add(float(step), counts)
            picture.draw(now=step + 0.5)
            sizes["bqplot"].append(recorder.bytes_since(mark))
            if plotly_draw is not None:
                plotly_history.add(float(step), counts)
                mark = recorder.mark()
                plotly_draw(plotly_history)
                sizes["plotly"].append(recorder.bytes_since(mark))
        assert table.refreshes == args.refreshes  # the table took every change
    finally:
        recorder.uninstall()
    print(
        f"{args.jobs:,} jobs, {args.changed} rows changed per refresh, {args.refreshes} refreshes"
    )
    for name, label in (
        ("table", "job table refresh (page, counts, ETA)"),
        ("bqplot", "picture update, bqplot (chosen)"),
        ("plotly", "picture update, plotly FigureWidget"),
    ):
        got = sizes[name]
        if not got:
            print(f"{label:<40} (plotly not installed)")
            continue
        print(
            f"{label:<40} {statistics.median(got) / 1024:7.1f} KB median, "
            f"{max(got) / 1024:7.1f} KB max (budget {BUDGET_KB:.0f} KB per refresh)"
        )


if __name__ == "__main__":
    main()
