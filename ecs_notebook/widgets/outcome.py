"""The outcome of a run: counts per status, the servers not reinstalled with the reason, and
the job table as a CSV download (a link the browser saves; no cell needs to run).

A thin view of :meth:`FleetRun.summary` and :meth:`JobBook.snapshot`: the console shows it
when a run ends, and a runbook's outcome cell displays the same widget.
"""

from __future__ import annotations

import base64
from typing import Any, Final

import ipywidgets as widgets
import pandas as pd

from .._text import plural
from ..fleet import FleetRun, Summary
from ..fleet.export import to_csv_text
from .styles import classed, esc, status_class, style_widget

SHOWN_ROWS: Final = 200


class OutcomePanel(widgets.VBox):  # type: ignore[misc]
    """What a run came to; empty (with a hint) until :meth:`show` is called."""

    def __init__(self) -> None:
        self.summary: Summary | None = None
        self.counts = classed(widgets.HTML(), "ecs-outcome-counts")
        self.not_reinstalled = classed(widgets.HTML(), "ecs-outcome-not-reinstalled")
        self.not_reinstalled.layout = widgets.Layout(width="100%", overflow="auto")
        self.download = classed(widgets.HTML(), "ecs-outcome-download")
        super().__init__([style_widget(), self.counts, self.download, self.not_reinstalled])
        self.add_class("ecs-outcome")
        self.waiting()

    def waiting(self, text: str = "nothing has finished yet: plan and confirm above") -> None:
        """Show a hint instead of an outcome."""
        self.summary = None
        self.counts.value = f'<span class="ecs-info">{esc(text)}</span>'
        self.not_reinstalled.value = ""
        self.download.value = ""

    def show(self, run: FleetRun, summary: Summary | None = None) -> None:
        """Show how ``run`` ended (its ``summary()`` unless given)."""
        summary = summary if summary is not None else run.summary()
        self.summary = summary
        chips = "".join(
            f'<span class="ecs-chip {status_class(k)}">{esc(k)} {v:,}</span>'
            for k, v in summary.counts.items()
        )
        self.counts.value = f"<div><b>Finished.</b> {chips}</div>"
        self.not_reinstalled.value = render_not_reinstalled(summary.not_reinstalled)
        self.download.value = download_link(to_csv_text(run.book.snapshot()), csv_name(run))

    def __repr__(self) -> str:
        return f"OutcomePanel({self.summary})"


def csv_name(run: FleetRun) -> str:
    """The download's file name: the journal's, with ``.csv``."""
    return f"{run.journal_path.stem}.csv"


def download_link(text: str, filename: str) -> str:
    """An HTML link that saves ``text`` as ``filename`` (a ``data:`` URL; nothing runs)."""
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return (
        f'<a class="ecs-download jupyter-button mod-info" download="{esc(filename)}" '
        f'href="data:text/csv;charset=utf-8;base64,{data}" '
        'style="display:inline-block;padding:0 12px;line-height:28px;text-decoration:none">'
        f"⬇ Download the job table (CSV): {esc(filename)}</a>"
    )


def render_not_reinstalled(frame: pd.DataFrame) -> str:
    """The servers not reinstalled, with the reason, as an HTML table (the first 200)."""
    n = len(frame)
    if not n:
        return '<div class="ecs-info">every server was reinstalled</div>'
    rows = "".join(
        "<tr>"
        f'<td>{esc(r.server_name or "")}</td><td class="m">{esc(r.server_id)}</td>'
        f'<td><span class="{status_class(str(r.status))}"><span class="ecs-st">'
        f"{esc(r.status)}</span></span></td>"
        f'<td>{esc(_text(r.error_code))}</td><td class="r">{esc(_text(r.reason))}</td></tr>'
        for r in frame.head(SHOWN_ROWS).itertuples()
    )
    more = f"<div>… and {n - SHOWN_ROWS:,} more (in the CSV)</div>" if n > SHOWN_ROWS else ""
    return (
        f"<div><b>{plural(n, 'server')} not reinstalled:</b></div>"
        '<table class="ecs-jt"><thead><tr><th>name</th><th>server id</th><th>status</th>'
        f"<th>error</th><th>reason</th></tr></thead><tbody>{rows}</tbody></table>{more}"
    )


def _text(value: Any) -> str:
    return (
        ""
        if value is None or value is pd.NA or (isinstance(value, float) and value != value)
        else str(value)
    )
