"""CSS class names, status colours, the one style sheet every widget of the console shares,
and the one layout rule (:func:`responsive`) that keeps every label and button whole.

Class names are stable: browser tests select widgets by them (``.ecs-userid input``,
``button.ecs-submit``, ``.ecs-job-table .widget-html-content``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any, Final

import ipywidgets as widgets

#: A colour per job-book status (``ecs_notebook.fleet.records.STATUSES``).
STATUS_COLOURS: Final[dict[str, str]] = {
    "PLANNED": "#9e9e9e",
    "SUBMITTING": "#4fc3f7",
    "UNKNOWN": "#ffb300",
    "INIT": "#64b5f6",
    "RUNNING": "#1e88e5",
    "PENDING_PAYMENT": "#8e24aa",
    "VERIFYING": "#26a69a",
    "SUCCESS": "#43a047",
    "FAIL": "#e53935",
    "UNHEALTHY": "#d81b60",
    "REFUSED": "#b71c1c",
    "NOT_SENT": "#795548",
    "UNCONFIRMED": "#fb8c00",
    "CHANGED": "#f4511e",
    "HELD": "#5c6bc0",
    "SKIPPED": "#bdbdbd",
}
OTHER_COLOUR: Final = "#607d8b"

#: The CSS class of the problem area next to each request field (``Problem.field`` keys).
PROBLEM_CLASSES: Final[dict[str, str]] = {
    "adminpass": "ecs-problem-adminpass",
    "keyname": "ecs-problem-keyname",
    "userid": "ecs-problem-userid",
    "mode": "ecs-problem-mode",
    "user_data": "ecs-problem-user-data",
    "BYOL": "ecs-problem-byol",
    "__system__encrypted": "ecs-problem-encrypted",
    "__system__cmkid": "ecs-problem-cmkid",
}
#: Problems about a field that is not on screen (or not known to the form) go here.
OTHER_PROBLEMS: Final = "ecs-problem-other"


def colour(status: str) -> str:
    """The colour of a status (grey-blue for statuses this version does not know)."""
    return STATUS_COLOURS.get(status, OTHER_COLOUR)


def esc(value: object) -> str:
    """HTML-escape any value; ``None`` shows as an empty string."""
    return "" if value is None else html.escape(str(value), quote=True)


def status_class(status: str) -> str:
    """A CSS-safe class for a status (``s-SUCCESS``)."""
    return "s-" + "".join(c if c.isalnum() or c == "_" else "_" for c in status)


def classed(widget: Any, *names: str) -> Any:
    """Add CSS classes to ``widget`` and return it (for building trees in one expression)."""
    for name in names:
        widget.add_class(name)
    return widget


def _status_rules() -> str:
    rules = []
    for status, fill in STATUS_COLOURS.items():
        cls = status_class(status)
        rules.append(f".{cls} .ecs-st,.ecs-chip.{cls}{{background:{fill}}}")
    return "".join(rules)


CSS: Final = (
    ".ecs-err{color:#c62828}"
    ".ecs-warn{color:#7a5900;background:#fff8e1;padding:0 3px}"
    ".ecs-info{color:#455a64}"
    ".ecs-url{word-break:break-all;font-family:monospace;font-size:12px}"
    ".ecs-pre{white-space:pre-wrap;word-break:break-all;font-family:monospace;font-size:12px;"
    "margin:0;padding:4px;background:#f7f7f7;max-height:24em;overflow:auto}"
    ".ecs-jt{border-collapse:collapse;font-size:12px}"
    ".ecs-jt th{text-align:left;border-bottom:2px solid #ccc;padding:1px 6px}"
    ".ecs-jt td{border-bottom:1px solid #eee;padding:1px 6px;white-space:nowrap}"
    ".ecs-jt td.m{font-family:monospace}"
    ".ecs-jt td.r{white-space:normal;max-width:30em}"
    ".ecs-st,.ecs-chip{color:#fff;padding:0 4px;border-radius:3px;background:#607d8b}"
    ".ecs-chip{display:inline-block;margin:1px 4px 1px 0;font-size:12px}"
    ".ecs-prow{display:grid;grid-template-columns:10em 23em 6em 6em 15em 12em minmax(10em,1fr);"
    "gap:6px;font-size:12px;line-height:16px;min-height:24px;align-items:center;"
    "width:max-content}"
    ".ecs-prow span{overflow-wrap:anywhere}"
    ".ecs-picker-scroll{overflow-x:auto}"
    ".ecs-picker-scroll .widget-hbox{width:max-content;flex-wrap:nowrap}"
    ".ecs-picker-scroll .widget-html,.ecs-picker-scroll .widget-html-content{width:max-content}"
    ".ecs-jobs .ecs-job-table{overflow-x:auto}"
    ".ecs-console .widget-label,.ecs-console .widget-label-basic{white-space:nowrap}"
    ".ecs-prow .m{font-family:monospace}"
    ".ecs-prow.h{font-weight:bold;border-bottom:2px solid #ccc;margin-left:34px}"
    ".ecs-pf-skip{color:#b71c1c}.ecs-pf-ok{color:#2e7d32}" + _status_rules()
)

_style: Any = None

#: Widgets whose own text (description on the button) must never be cut.
_FIT_CONTENT: Final = (widgets.Button, widgets.FileUpload, widgets.ToggleButton, widgets.Checkbox)


def responsive(root: Any) -> Any:
    """The console's layout rule, applied to every widget under ``root`` (and returned).

    Labels take the width of their text (``description_width: initial``), buttons and
    checkboxes the width of theirs, toggle buttons size to their labels, and every
    horizontal box wraps onto the next line when the page is narrow. Widths set on purpose
    (``layout.width`` already given) are kept. Calling it twice changes nothing.
    """
    stack = [root]
    seen: set[int] = set()
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        style = getattr(w, "style", None)
        if (
            getattr(w, "description", "")
            and style is not None
            and hasattr(style, "description_width")
        ):
            style.description_width = "initial"
        layout = getattr(w, "layout", None)
        if isinstance(w, _FIT_CONTENT) and layout is not None:
            if not layout.width:
                layout.width = "auto"
            if isinstance(w, widgets.Checkbox):
                w.indent = False
        if isinstance(w, widgets.ToggleButtons):
            w.style.button_width = "auto"
        if isinstance(w, widgets.HBox) and layout is not None and not layout.flex_flow:
            layout.flex_flow = "row wrap"
            layout.align_items = layout.align_items or "center"
        stack.extend(getattr(w, "children", ()))
    return root


def wrap_row(children: Sequence[Any]) -> Any:
    """A row of widgets that wraps onto the next line when the page is narrow."""
    return widgets.HBox(
        list(children), layout=widgets.Layout(flex_flow="row wrap", align_items="center")
    )


def columns(children: Sequence[Any], min_width: str = "380px") -> Any:
    """Side-by-side columns (a CSS grid) that stack into one when narrower than ``min_width``."""
    return widgets.GridBox(
        list(children),
        layout=widgets.Layout(
            grid_template_columns=f"repeat(auto-fit, minmax(min({min_width}, 100%), 1fr))",
            grid_gap="8px 16px",
            width="100%",
        ),
    )


def style_widget() -> Any:
    """The shared ``<style>`` HTML widget: one model, included by every top-level widget."""
    global _style
    if _style is None or _style.comm is None:
        _style = classed(widgets.HTML(f"<style>{CSS}</style>"), "ecs-style")
    return _style
