"""The fleet's progress over time: rows per status, drawn as a small stacked-area SVG.

Pure (no widgets): :class:`Timeline` keeps a bounded list of samples and renders at most
``max_points`` columns, so the picture stays a few kilobytes however long the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from ..fleet.records import STATUSES
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
assert set(STACK_ORDER) == set(STATUSES)


@dataclass
class Timeline:
    """Samples of ``(seconds, counts per status)``; :meth:`render` draws them."""

    width: int = 480
    height: int = 80
    max_points: int = 60
    samples: list[tuple[float, dict[str, int]]] = field(default_factory=list)

    def add(self, seconds: float, counts: Mapping[str, int]) -> None:
        """Record the counts at ``seconds`` (halving the history when it grows too long)."""
        self.samples.append((seconds, {k: v for k, v in counts.items() if v}))
        if len(self.samples) > 4 * self.max_points:
            last = self.samples[-1]
            self.samples = self.samples[::2]
            if self.samples[-1] is not last:
                self.samples.append(last)

    def clear(self) -> None:
        """Forget every sample."""
        self.samples.clear()

    def _points(self) -> list[tuple[float, dict[str, int]]]:
        n = len(self.samples)
        if n <= self.max_points:
            return list(self.samples)
        step = (n - 1) / (self.max_points - 1)
        return [self.samples[round(i * step)] for i in range(self.max_points)]

    def render(self) -> str:
        """The SVG (an empty string before the first sample)."""
        points = self._points()
        if not points:
            return ""
        if len(points) == 1:
            points = [points[0], points[0]]
        w, h = self.width, self.height
        t0, t1 = points[0][0], points[-1][0]
        span = (t1 - t0) or 1.0
        xs = [round((t - t0) / span * w) for t, _ in points]
        totals = [sum(c.values()) for _, c in points]
        top = max(totals) or 1
        present = {s for _, c in points for s in c}
        order = [s for s in STACK_ORDER if s in present] + sorted(present - set(STACK_ORDER))
        cumulative = [0] * len(points)
        layers = []
        for status in order:
            cumulative = [
                acc + c.get(status, 0) for acc, (_, c) in zip(cumulative, points, strict=True)
            ]
            edge = " ".join(
                f"{x},{round(h - v / top * h)}" for x, v in zip(xs, cumulative, strict=True)
            )
            layers.append((status, f"0,{h} {edge} {w},{h}"))
        # Draw the tallest (cumulative) layer first, so each lower band shows through on top.
        shapes = "".join(
            f'<polygon fill="{colour(s)}" points="{pts}"><title>{esc(s)}</title></polygon>'
            for s, pts in reversed(layers)
        )
        return (
            f'<svg class="ecs-timeline-svg" width="{w}" height="{h + 14}" '
            f'viewBox="0 0 {w} {h + 14}" xmlns="http://www.w3.org/2000/svg">{shapes}'
            f'<text x="0" y="{h + 12}" font-size="10">0 s</text>'
            f'<text x="{w}" y="{h + 12}" font-size="10" text-anchor="end">'
            f"{t1 - t0:.0f} s · {totals[-1]:,} rows</text></svg>"
        )
