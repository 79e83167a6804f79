"""CSS class names, status colours and the one style sheet every widget of the console shares.

Class names are stable: browser tests select widgets by them (``.ecs-userid input``,
``button.ecs-submit``, ``.ecs-job-table .widget-html-content``).
"""

from __future__ import annotations

import html
from typing import Any, Final

import ipywidgets as widgets

from ..fleet.records import STATUSES

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
assert set(STATUS_COLOURS) == set(STATUSES)

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
    "gap:6px;font-size:12px;white-space:nowrap;overflow:hidden;line-height:24px}"
    ".ecs-prow span{overflow:hidden;text-overflow:ellipsis}"
    ".ecs-prow .m{font-family:monospace}"
    ".ecs-prow.h{font-weight:bold;border-bottom:2px solid #ccc;margin-left:34px}"
    ".ecs-pf-skip{color:#b71c1c}.ecs-pf-ok{color:#2e7d32}" + _status_rules()
)

_style: Any = None


def style_widget() -> Any:
    """The shared ``<style>`` HTML widget: one model, included by every top-level widget."""
    global _style
    if _style is None or _style.comm is None:
        _style = classed(widgets.HTML(f"<style>{CSS}</style>"), "ecs-style")
    return _style
