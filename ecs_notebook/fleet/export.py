"""The job book as operators export it: durations in seconds, times in ISO-8601 UTC.

One rule for every export an operator reads or scripts against (the CLI's ``--csv`` and
``-f csv|json``, the console's CSV download). :meth:`JobBook.to_csv` stays the lossless
round-trip format that :func:`~ecs_notebook.fleet.read_csv` reads back.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

import pandas as pd

#: Columns of an export, in order (``duration_s``: seconds, a number).
EXPORT_COLUMNS: Final = (
    "server_id",
    "server_name",
    "job_id",
    "status",
    "submitted",
    "begin_time",
    "end_time",
    "duration_s",
    "error_code",
    "fail_reason",
    "messages",
    "attempts",
    "polls",
    "note",
)
TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"


def seconds(value: Any) -> float | None:
    """A duration (``timedelta``, ``Timedelta``, number) in seconds; ``None`` when missing."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, int | float):
        return float(value)
    return round(float(pd.Timedelta(value).total_seconds()), 3)


def export_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The book's snapshot as plain rows (str, int, float or ``None``) in export order."""
    out: list[dict[str, Any]] = []
    for row in frame.to_dict("records"):
        item: dict[str, Any] = {}
        for column in EXPORT_COLUMNS:
            if column == "duration_s":
                item[column] = seconds(row.get("duration"))
                continue
            value = row.get(column)
            if value is None or value is pd.NA or value is pd.NaT:
                item[column] = None
            elif isinstance(value, pd.Timestamp):
                item[column] = value.strftime(TIME_FORMAT)
            elif hasattr(value, "item"):  # numpy scalars
                item[column] = value.item()
            else:
                item[column] = str(value) if column == "status" else value
        out.append(item)
    return out


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`export_records` as a DataFrame (columns :data:`EXPORT_COLUMNS`)."""
    out: pd.DataFrame = pd.DataFrame.from_records(
        export_records(frame), columns=list(EXPORT_COLUMNS)
    )
    return out


def to_csv_text(frame: pd.DataFrame) -> str:
    """The export as CSV text (a header row, then one row per server)."""
    return str(export_frame(frame).to_csv(index=False))


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write the export to ``path`` (UTF-8): the CSV the CLI's ``--csv`` and the console give."""
    Path(path).write_text(to_csv_text(frame), encoding="utf-8")
