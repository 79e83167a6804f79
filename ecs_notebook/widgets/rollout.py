"""The rollout section beside the confirmation: how a run is staged, and its waves as they run.

A thin view. The settings are checked by :class:`~ecs_notebook.fleet.rollout.Rollout` (its
problems are shown under each field), the staging text and the waves come from
:class:`~ecs_notebook.fleet.rollout_state.RolloutState`, and Continue only calls back: the
engine decides what continuing means. Hook it into a console with a few lines::

    section = RolloutPanel()
    section.set_plan_size(plan.count)          # when a plan is shown
    section.on_continue(lambda: run.proceed())  # once a run has started
    section.show(run.rollout_state)            # from the run's book listener
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Final

import ipywidgets as widgets

from ..fleet.rollout import Rollout, RolloutError
from ..fleet.rollout_state import RolloutState, RolloutView
from ..model.problems import Problem
from ._problems import OTHER, route
from .styles import classed, esc, style_widget

#: The settings with an input, in the order they are shown.
FIELDS: Final = ("waves", "max_errors", "bake")
CSS: Final = (
    ".ecs-waves{border-collapse:collapse;font-size:12px}"
    ".ecs-waves th{text-align:right;border-bottom:2px solid #ccc;padding:1px 6px}"
    ".ecs-waves td{text-align:right;border-bottom:1px solid #eee;padding:1px 6px}"
    ".ecs-waves tr.now td{font-weight:bold;background:#e3f2fd}"
    ".ecs-waves tr.held td{color:#9e9e9e}"
    ".ecs-halt-banner{color:#fff;background:#c62828;padding:4px 8px;border-radius:3px}"
    ".ecs-approval-banner{background:#fff8e1;padding:4px 8px;border-radius:3px}"
)
#: Waves listed in full up to this many; past it, the first, those around the current, the last.
SHOWN_WAVES: Final = 12
ContinueListener = Callable[[], object]


class RolloutPanel(widgets.VBox):  # type: ignore[misc]
    """Inputs for wave sizes, error budget, bake and verify; the waves view; Continue."""

    def __init__(self, rollout: Rollout | None = None) -> None:
        self.rollout: Rollout | None = Rollout()
        self.problems: tuple[Problem, ...] = ()
        self.plan_size: int | None = None
        self._listeners: list[ContinueListener] = []
        self._lock = threading.Lock()

        self.waves_input = classed(
            widgets.Text(description="waves", placeholder="1,10,25% (empty: one wave)"),
            "ecs-rollout-waves",
        )
        self.max_errors_input = classed(
            widgets.Text(description="max errors", placeholder="3 or 2% (empty: 0 when staged)"),
            "ecs-rollout-max-errors",
        )
        self.bake_input = classed(
            widgets.FloatText(description="bake (s)", value=0.0), "ecs-rollout-bake"
        )
        self.verify_box = classed(
            widgets.Checkbox(description="check health after SUCCESS", value=True, indent=False),
            "ecs-rollout-verify",
        )
        self.pause_box = classed(
            widgets.Checkbox(description="ask before each wave", value=False, indent=False),
            "ecs-rollout-pause",
        )
        self.problem_areas: dict[str, Any] = {
            name: classed(widgets.HTML(), "ecs-problem", f"ecs-problem-{name.replace('_', '-')}")
            for name in (*FIELDS, OTHER)
        }
        self.staging = classed(widgets.HTML(), "ecs-rollout-staging")
        self.banner = classed(widgets.HTML(), "ecs-rollout-banner")
        self.waves_view = classed(widgets.HTML(), "ecs-rollout-waves-view")
        self.continue_button = classed(
            widgets.Button(description="Continue", icon="play", disabled=True),
            "ecs-rollout-continue",
        )
        areas = self.problem_areas
        super().__init__(
            [
                style_widget(),
                widgets.HTML(f"<style>{CSS}</style>"),
                widgets.HBox(
                    [
                        widgets.VBox([self.waves_input, areas["waves"]]),
                        widgets.VBox([self.max_errors_input, areas["max_errors"]]),
                        widgets.VBox([self.bake_input, areas["bake"]]),
                    ]
                ),
                widgets.HBox([self.verify_box, self.pause_box]),
                areas[OTHER],
                self.staging,
                self.banner,
                self.waves_view,
                self.continue_button,
            ]
        )
        self.add_class("ecs-rollout")
        if rollout is not None:
            self.set_rollout(rollout)
        for box in self.inputs:
            box.observe(lambda _: self._read(), "value")
        self.continue_button.on_click(lambda _: self.press_continue())
        self._read()

    @property
    def inputs(self) -> tuple[Any, ...]:
        """The setting widgets, in order."""
        return (
            self.waves_input,
            self.max_errors_input,
            self.bake_input,
            self.verify_box,
            self.pause_box,
        )

    # -- code API ----------------------------------------------------------------------------

    def set_rollout(self, rollout: Rollout) -> None:
        """Show ``rollout``'s settings in the inputs."""
        self.waves_input.value = ",".join(str(w) for w in rollout.waves)
        self.max_errors_input.value = "" if rollout.max_errors is None else str(rollout.max_errors)
        self.bake_input.value = rollout.bake
        self.verify_box.value = rollout.verify
        self.pause_box.value = rollout.pause_between_waves

    def set_plan_size(self, count: int | None) -> None:
        """The number of servers planned, for the staging text (``None``: no plan yet)."""
        self.plan_size = count
        self._show_staging()

    def lock(self, locked: bool = True) -> None:
        """Disable the inputs (a run has started with these settings)."""
        for box in self.inputs:
            box.disabled = locked

    def on_continue(self, listener: ContinueListener) -> None:
        """Call ``listener()`` when Continue is pressed (the engine proceeds)."""
        self._listeners.append(listener)

    def press_continue(self) -> bool:
        """What the Continue button does: disable itself and call the listeners once."""
        with self._lock:
            if self.continue_button.disabled:
                return False
            self.continue_button.disabled = True
        try:
            for listener in list(self._listeners):
                listener()
        except Exception as exc:  # say why, and let the operator try again
            self.banner.value = f'<div class="ecs-err">could not continue: {esc(exc)}</div>'
            self.continue_button.disabled = False
            return False
        return True

    def show(self, state: RolloutState | RolloutView) -> None:
        """Show a staged run: which wave, each wave's counts, the budget, a halt, Continue."""
        view = state.snapshot() if isinstance(state, RolloutState) else state
        halt = view.halt
        if halt is not None:
            banner = (
                f'<div class="ecs-halt-banner"><b>{esc(halt.reason)}.</b> {len(view.held):,} '
                "held: Continue proceeds with a fresh budget for them.</div>"
            )
            label = f"Continue ({len(view.held):,} held)"
        elif view.step == "approval":
            done = view.waves[view.wave - 1]
            banner = (
                f'<div class="ecs-approval-banner">Wave {done.number} of {len(view.waves)} '
                f"passed: {esc(done.line())}. Continue starts wave {done.number + 1}.</div>"
            )
            label = f"Start wave {done.number + 1}"
        else:
            banner, label = "", "Continue"
        with self.hold_sync():
            self.staging.value = f'<div class="ecs-info">{esc(view.staging)}</div>'
            self.banner.value = banner
            self.waves_view.value = _waves_table(view)
            self.continue_button.description = label
            self.continue_button.disabled = view.step not in ("halted", "approval")

    # -- internals ---------------------------------------------------------------------------

    def _read(self) -> None:
        """Build the rollout from the inputs (Rollout checks it) and show its problems."""
        bake = self.bake_input.value
        try:
            self.rollout = Rollout(
                waves=self.waves_input.value if self.waves_input.value.strip() else None,
                max_errors=self.max_errors_input.value.strip() or None,
                bake=bake,
                verify=self.verify_box.value,
                pause_between_waves=self.pause_box.value,
            )
            self.problems = ()
        except RolloutError as exc:
            self.rollout = None
            self.problems = exc.problems
        shown = route(self.problems, self.problem_areas)
        for name, area in self.problem_areas.items():
            area.value = shown.get(name, "")
        self._show_staging()

    def _show_staging(self) -> None:
        if self.rollout is None:
            text = '<div class="ecs-err">fix the rollout settings above</div>'
        elif self.plan_size is None:
            text = '<div class="ecs-info">nothing planned yet</div>'
        else:
            n = self.plan_size
            text = (
                f'<div class="ecs-info"><b>{esc(self.rollout.describe(n))}</b>; '
                f"{esc(self.rollout.describe_budget(n))}</div>"
            )
        self.staging.value = text

    def __repr__(self) -> str:
        return f"RolloutPanel(rollout={self.rollout!r}, plan_size={self.plan_size})"


def _waves_table(view: RolloutView) -> str:
    budget = "no budget" if view.budget is None else f"{view.errors:,} of {view.budget:,} allowed"
    head = (
        f'<div class="ecs-info">wave {view.wave} of {len(view.waves)} · {esc(view.step)} · '
        f"errors {esc(budget)}</div>"
    )
    rows = []
    shown = _shown_waves(len(view.waves), view.wave)
    for i, w in enumerate(view.waves):
        if i not in shown:
            if i - 1 in shown:
                rows.append('<tr class="gap"><td>…</td></tr>')
            continue
        css = "now" if w.number == view.wave else ("held" if w.held else "")
        rows.append(
            f'<tr class="{css}" data-wave="{w.number}"><td>{w.number}</td><td>{w.size:,}</td>'
            f"<td>{w.sent:,}</td><td>{w.succeeded:,}</td><td>{w.unhealthy:,}</td>"
            f"<td>{w.failed:,}</td><td>{w.held:,}</td></tr>"
        )
    return (
        head + '<table class="ecs-waves"><tr><th>wave</th><th>size</th><th>sent</th>'
        "<th>succeeded</th><th>unhealthy</th><th>failed</th><th>held</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _shown_waves(count: int, current: int) -> set[int]:
    """Indexes of the waves to list: all of a few, else the first, those around the
    current one and the last."""
    if count <= SHOWN_WAVES:
        return set(range(count))
    around = range(max(0, current - 3), min(count, current + 2))
    return {0, 1, 2, *around, count - 1}
