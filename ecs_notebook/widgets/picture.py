"""The fleet picture: rows per status over time, stacked, with axes, marks and a legend.

A bqplot figure that updates in place: each redraw sends the samples' x values and one
count series per status as float32 binary buffers (a few kilobytes, whatever the fleet's
size: ``benchmarks/bench_picture.py`` prints the bytes per update next to the job table's).
bqplot was chosen over plotly's ``FigureWidget`` by that measure: at 240 samples of 12
statuses bqplot sends about 11.6 KB per update, plotly about 24.6 KB (JSON).

The samples come from a :class:`~ecs_notebook.fleet.progress.CountsHistory`; its marks
(waves, once runs have them) are drawn as labelled vertical rules. The legend is a line of
HTML under the plot, not bqplot's (which is drawn inside the plot, over the bands and the
wave labels).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Final

import ipywidgets as widgets
import numpy as np

with warnings.catch_warnings():
    # bqscales (bqplot's scales) passes trait metadata the way traitlets 4.1 deprecated:
    # a DeprecationWarning at import that says nothing about this project.
    warnings.simplefilter("ignore", DeprecationWarning)
    import bqplot as bq

from ..fleet.progress import CountsHistory
from .styles import colour, esc

#: Bottom to top: finished rows first, then rows in flight, then rows still to send.
STACK_ORDER: Final = (
    "SUCCESS",
    "FAIL",
    "UNHEALTHY",
    "REFUSED",
    "NOT_SENT",
    "UNCONFIRMED",
    "CHANGED",
    "SKIPPED",
    "HELD",
    "UNKNOWN",
    "VERIFYING",
    "PENDING_PAYMENT",
    "RUNNING",
    "INIT",
    "SUBMITTING",
    "PLANNED",
)


#: How far down (a share of the plot's height) every other wave label sits.
LABEL_STEP: Final = 0.12


class FleetPicture(widgets.VBox):  # type: ignore[misc]
    """Stacked counts per status over time (seconds since the run started).

    ``add(seconds, counts)`` records a sample; ``draw(now)`` sends the picture, with the
    time axis reaching ``now`` so that it keeps moving while no count changes.
    """

    def __init__(self, history: CountsHistory | None = None, *, height: str = "220px") -> None:
        self.history = history if history is not None else CountsHistory()
        self.draws = 0
        self.x_scale = bq.LinearScale(min=0.0, max=1.0)
        self.y_scale = bq.LinearScale(min=0.0)
        self.areas = bq.Lines(
            x=np.zeros(0, dtype=np.float32),
            y=np.zeros(0, dtype=np.float32),
            scales={"x": self.x_scale, "y": self.y_scale},
            fill="bottom",
            interpolation="step-after",  # counts hold until the next sample: steps, not wedges
            stroke_width=0,
            display_legend=False,
            labels=[],
            colors=[],
        )
        self.rules = bq.Lines(
            x=np.zeros(0, dtype=np.float32),
            y=np.zeros(0, dtype=np.float32),
            scales={"x": self.x_scale, "y": self.y_scale},
            colors=["#263238"],
            line_style="dashed",
            stroke_width=1,
        )
        self.rule_labels = bq.Label(
            x=[],
            y=[],
            text=[],
            scales={"x": self.x_scale, "y": self.y_scale},
            font_weight="normal",
            colors=["#263238"],  # the rules' colour: one wave, one rule, one label
            align="start",  # right of its rule
            x_offset=3,
            y_offset=12,  # inside the plot, under its top edge
        )
        self.x_axis = bq.Axis(scale=self.x_scale, label="seconds since the first submission")
        self.y_axis = bq.Axis(
            scale=self.y_scale, side="left", label="servers", tick_format="d", num_ticks=2
        )
        self.figure = bq.Figure(
            marks=[self.areas, self.rules, self.rule_labels],
            axes=[self.x_axis, self.y_axis],
            fig_margin={"top": 10, "bottom": 40, "left": 60, "right": 10},
            animation_duration=0,
            padding_y=0.0,  # zero servers on the axis line, not a band below it
        )
        self.figure.layout = widgets.Layout(width="100%", height=height, min_width="300px")
        self.legend = widgets.HTML()
        self.legend.add_class("ecs-picture-legend")
        super().__init__([self.figure, self.legend])
        self.add_class("ecs-picture")

    def add(self, seconds: float, counts: Mapping[str, int]) -> None:
        """Record the counts at ``seconds`` (drawn at the next :meth:`draw`)."""
        self.history.add(seconds, counts)

    def mark(self, seconds: float, label: str) -> None:
        """Draw a labelled vertical rule at ``seconds`` (a wave starting, say)."""
        self.history.mark(seconds, label)

    def clear(self) -> None:
        """Forget every sample and mark."""
        self.history.clear()

    def draw(self, now: float | None = None) -> None:
        """Send the picture; the time axis ends at ``now`` (default: the last sample)."""
        points = self.history.points()
        if not points or not any(c for _, c in points):
            return
        end = max(points[-1][0], now if now is not None else points[-1][0])
        present = {s for _, c in points for s in c}
        order = tuple(s for s in STACK_ORDER if s in present) + tuple(
            sorted(present - set(STACK_ORDER))
        )
        # The last sample holds until ``now``: repeat it there so the bands reach the edge.
        times = [t for t, _ in points]
        rows = [c for _, c in points]
        # The current counts hold from the last change to ``end``; right after a change (a
        # run that just ended) give them a visible sliver, or they would have no width.
        end = max(end, times[-1] + max(0.5, 0.02 * (times[-1] - times[0])))
        times.append(end)
        rows.append(rows[-1])
        x = np.asarray(times, dtype=np.float32)
        stacked = np.cumsum(
            np.array([[c.get(s, 0) for c in rows] for s in order], dtype=np.float32), axis=0
        ).reshape(len(order), len(times))
        top = float(stacked[-1].max())
        marks = [(t, label) for t, label in self.history.marks if t <= end]
        with (
            self.areas.hold_sync(),
            self.x_scale.hold_sync(),
            self.y_scale.hold_sync(),
            self.y_axis.hold_sync(),
        ):
            # Each cumulative line is filled down to the axis, tallest first: every later
            # (lower) line paints over it, so the band between two lines is one status.
            self.areas.x = x
            self.areas.y = stacked[::-1]
            self.areas.labels = list(reversed(order))
            self.areas.colors = [colour(s) for s in reversed(order)]
            self.areas.fill_opacities = [1.0] * len(order)
            self.x_scale.max = float(max(end, 1.0))
            self.x_scale.min = float(times[0])
            self.y_scale.max = max(1.0, top)
            self.y_axis.num_ticks = int(min(5.0, max(1.0, top)))  # whole servers only
        self.legend.value = legend_html(order)  # sent only when the statuses change
        if marks:
            with self.rules.hold_sync(), self.rule_labels.hold_sync():
                self.rules.x = np.array([[t, t] for t, _ in marks], dtype=np.float32)
                self.rules.y = np.array([[0, top] for _ in marks], dtype=np.float32)
                self.rule_labels.x = [t for t, _ in marks]
                # Waves that start close together would print over each other: every
                # other label one line lower.
                self.rule_labels.y = [top * (1.0 - LABEL_STEP * (i % 2)) for i in range(len(marks))]
                self.rule_labels.text = [label for _, label in marks]
        self.draws += 1

    def series(self) -> dict[str, list[float]]:
        """What is drawn, per status (counts, not stacked), for tests and code."""
        y = np.asarray(self.areas.y)
        labels = list(self.areas.labels)
        out: dict[str, list[float]] = {}
        below = np.zeros(y.shape[1] if y.ndim == 2 else 0, dtype=np.float32)
        for i in range(len(labels) - 1, -1, -1):
            out[labels[i]] = [float(v) for v in y[i] - below]
            below = y[i]
        return out

    def __repr__(self) -> str:
        return f"FleetPicture(samples={len(self.history.samples)}, draws={self.draws})"


def legend_html(statuses: tuple[str, ...]) -> str:
    """One swatch and name per status, in the stack's order from the bottom band up."""
    items = "".join(
        '<span class="ecs-legend-item" style="display:inline-flex;align-items:center;'
        'margin-right:10px">'
        f'<span style="display:inline-block;width:10px;height:10px;margin-right:4px;'
        f'background:{colour(status)}"></span>{esc(status)}</span>'
        for status in statuses
    )
    return f'<div style="font-size:12px;line-height:16px;padding-left:60px">{items}</div>'


def picture_state(picture: FleetPicture) -> dict[str, Any]:
    """The x range and legend on screen (for tests)."""
    return {
        "x_min": picture.x_scale.min,
        "x_max": picture.x_scale.max,
        "legend": list(picture.areas.labels),
    }
