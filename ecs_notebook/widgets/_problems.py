"""Validation problems as HTML, routed to the area next to the field they are about."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence

from ..model import Problem
from .styles import esc

OTHER = "other"


def render_problems(problems: Sequence[Problem], *, labelled: bool = False) -> str:
    """Problems as HTML lines: errors and warnings styled apart, errors first."""
    ordered = sorted(problems, key=lambda p: p.severity != "error")
    lines = []
    for p in ordered:
        css, mark = ("ecs-err", "✖") if p.severity == "error" else ("ecs-warn", "⚠")
        text = str(p) if labelled else p.message
        lines.append(f'<div class="{css}" data-severity="{p.severity}">{mark} {esc(text)}</div>')
    return "".join(lines)


def route(
    problems: Iterable[Problem], areas: Collection[str], hidden: Collection[str] = ()
) -> dict[str, str]:
    """HTML per area: each problem under its field, or under ``other`` when that field has
    no area or is hidden (there it is labelled with the field's name)."""
    by_area: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        shown = problem.field in areas and problem.field not in hidden
        by_area[problem.field if shown else OTHER].append(problem)
    return {area: render_problems(by_area.get(area, ()), labelled=area == OTHER) for area in areas}
