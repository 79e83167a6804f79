"""The CLI's output layer: ``-f/--format table|json|csv|value``, ``-c/--column``, ``--query``.

In the conventions of the openstack client (formats, repeatable ``-c``) and of KooCLI and
the AWS CLI (``--query`` with a JMESPath expression). Every command hands its result to
:func:`emit` as rows of plain values (str, int, float, bool or ``None``); stdout then holds
data only. Progress, hints and summaries go to stderr. Durations are numbers of seconds.

* ``table``: aligned columns with an upper-case header (the default, for people);
* ``json``: one JSON document (a list of objects, or what ``--query`` made of it);
* ``csv``: a header row, then one row per item;
* ``value``: values only, space separated, one item per line (for ``read`` and ``xargs``).

``--query`` runs on the JSON form of the rows (all columns, lower-case keys) before
``-c`` selects columns. A query that gives scalars prints one per line (``json``: as JSON).
Writing into a closed pipe (``| head``) ends quietly.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any, Final

import jmespath
import jmespath.exceptions

from .._table import format_table
from .common import UsageError

FORMATS: Final = ("table", "json", "csv", "value")
Row = Mapping[str, Any]


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """Add ``-f/--format``, ``-c/--column`` and ``--query`` to a subcommand."""
    group = parser.add_argument_group("output (stdout holds data only; progress goes to stderr)")
    group.add_argument(
        "-f",
        "--format",
        choices=FORMATS,
        default="table",
        help="output format (default: table)",
    )
    group.add_argument(
        "-c",
        "--column",
        action="append",
        default=[],
        metavar="COLUMN",
        help="show only this column (repeat for more; names as in -f json)",
    )
    group.add_argument(
        "--query",
        metavar="JMESPATH",
        help="a JMESPath expression run on the rows as -f json shows them, e.g. "
        "\"[?status=='FAIL'].server_id\"",
    )


def emit(
    args: argparse.Namespace,
    columns: Sequence[str],
    rows: Sequence[Row],
    stream: IO[str] | None = None,
) -> None:
    """Print ``rows`` (dicts keyed by ``columns``) as ``args`` asks, on stdout by default."""
    out = stream if stream is not None else sys.stdout
    data: Any = [{c: _plain(r.get(c)) for c in columns} for r in rows]
    chosen = list(columns)
    query = getattr(args, "query", None)
    if query:
        try:
            data = jmespath.search(query, data)
        except jmespath.exceptions.JMESPathError as exc:
            raise UsageError(f"--query: {exc}") from None
    wanted = list(getattr(args, "column", []) or [])
    if wanted:
        known = {c.lower(): c for c in _columns_of(data, chosen)}
        unknown = [w for w in wanted if w.lower() not in known]
        if unknown:
            names = ", ".join(known.values())
            raise UsageError(f"-c/--column: no column {', '.join(unknown)} (columns: {names})")
        chosen = [known[w.lower()] for w in wanted]
        if _is_rows(data):
            data = [{c: item.get(c) for c in chosen} for item in data]
    elif query and _is_rows(data):
        chosen = _columns_of(data, chosen)
    write(render(getattr(args, "format", "table"), chosen, data), out)


def emit_document(
    args: argparse.Namespace, document: Mapping[str, Any], stream: IO[str] | None = None
) -> None:
    """One JSON document (not rows) on stdout; ``--query`` applies to it."""
    data: Any = _plain(document)
    if getattr(args, "query", None):
        try:
            data = jmespath.search(args.query, data)
        except jmespath.exceptions.JMESPathError as exc:
            raise UsageError(f"--query: {exc}") from None
    write(json.dumps(data, indent=2, ensure_ascii=False), stream or sys.stdout)


def render(fmt: str, columns: Sequence[str], data: Any) -> str:
    """``data`` (rows, or whatever a query returned) as text in ``fmt``; no trailing newline."""
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False)
    if _is_rows(data):
        if fmt == "table":
            return format_table([c.upper() for c in columns], [_cells(i, columns) for i in data])
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows([_text(item.get(c)) for c in columns] for item in data)
            return buffer.getvalue().rstrip("\n")
        return "\n".join(" ".join(_text(item.get(c)) for c in columns) for item in data)
    # A query gave a scalar, a list of scalars or of lists: one item per line.
    items = data if isinstance(data, list) else [data]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for item in items:
            writer.writerow([_text(v) for v in item] if isinstance(item, list) else [_text(item)])
        return buffer.getvalue().rstrip("\n")
    return "\n".join(
        " ".join(_text(v) for v in item) if isinstance(item, list) else _text(item)
        for item in items
        if item is not None or fmt != "value"
    )


def write(text: str, stream: IO[str]) -> None:
    """Write ``text`` and a newline; a closed pipe (``| head``) ends quietly."""
    try:
        if text:
            stream.write(text + "\n")
        stream.flush()
    except BrokenPipeError:
        # The reader has gone: point stdout at /dev/null so the interpreter's final flush
        # does not complain either (the recipe in Python's signal documentation).
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass


def _is_rows(data: Any) -> bool:
    return isinstance(data, list) and all(isinstance(item, dict) for item in data)


def _columns_of(data: Any, default: Sequence[str]) -> list[str]:
    if _is_rows(data) and data:
        seen: dict[str, None] = {}
        for item in data:
            seen.update(dict.fromkeys(item))
        return list(seen)
    return list(default)


def _cells(item: Mapping[str, Any], columns: Sequence[str]) -> list[Any]:
    return [None if item.get(c) is None else _text(item.get(c)) for c in columns]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _plain(value: Any) -> Any:
    """A JSON-able value: numbers stay numbers, tuples become lists, the rest strings."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return str(value)
