"""Confirmation: say what will happen to how many servers, have the user type that number.

The number is checked by :meth:`Plan.confirm` (a mismatch sends nothing); the send button
fires once (disabled on the first click, and guarded by a lock for code and double clicks).
While the run submits, a progress bar follows the submitter; Cancel stops new submissions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final

import ipywidgets as widgets

from .._text import plural
from ..fleet import BookChange, ConfirmationError, FleetRun, Plan, Rollout, Summary
from ..model import ReinstallRequest
from .styles import classed, esc, responsive, style_widget, wrap_row

SHOWN_SKIPS: Final = 20
RunListener = Callable[[FleetRun], object]


class ConfirmPanel(widgets.VBox):  # type: ignore[misc]
    """Confirm a :class:`Plan` by typing its server count, then start its :class:`FleetRun`."""

    def __init__(self) -> None:
        self.plan: Plan | None = None
        self.request: ReinstallRequest | None = None
        self.run: FleetRun | None = None
        self._fired = False
        self._lock = threading.Lock()
        self._unsubscribe: Callable[[], None] | None = None
        self._listeners: list[RunListener] = []
        #: Where the run's staging comes from (the console's rollout section): called at
        #: submit; ``None`` from it means invalid settings, and nothing is sent.
        self.rollout_source: Callable[[], Rollout | None] | None = None

        self.summary = classed(widgets.HTML(), "ecs-confirm-summary")
        self.staging = classed(widgets.HTML(), "ecs-confirm-staging")
        self.count = classed(
            widgets.Text(
                description="type the number",
                placeholder="number of servers",
                continuous_update=True,
                disabled=True,
            ),
            "ecs-confirm-count",
        )
        self.submit_button = classed(
            widgets.Button(
                description="Reinstall", button_style="danger", icon="warning", disabled=True
            ),
            "ecs-confirm-submit",
        )
        self.cancel_button = classed(
            widgets.Button(
                description="Cancel", tooltip="send nothing more; keep tracking", disabled=True
            ),
            "ecs-cancel",
        )
        self.progress = classed(
            widgets.IntProgress(min=0, max=1, value=0, description="submitted"),
            "ecs-submit-progress",
        )
        self.progress_label = classed(widgets.HTML(), "ecs-submit-progress-label")
        self.message = classed(widgets.HTML(), "ecs-confirm-message")
        super().__init__(
            [
                style_widget(),
                self.summary,
                self.staging,
                wrap_row([self.count, self.submit_button, self.cancel_button]),
                self.message,
                wrap_row([self.progress, self.progress_label]),
            ]
        )
        self.add_class("ecs-confirm")
        responsive(self)
        self.count.observe(lambda _: self._arm(), "value")
        self.submit_button.on_click(lambda _: self.submit())
        self.cancel_button.on_click(lambda _: self.cancel())
        self.summary.value = '<span class="ecs-info">nothing planned yet</span>'

    # -- code API --------------------------------------------------------------------------

    def show(self, plan: Plan, request: ReinstallRequest, run: FleetRun) -> None:
        """Ask the user to confirm ``plan``; ``run`` will send ``request`` once confirmed."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        with self._lock:
            self.plan, self.request, self.run = plan, request, run
            self._fired = False
        self.summary.value = _describe(plan)
        self.message.value = ""
        self.progress_label.value = ""
        with self.progress.hold_sync():
            self.progress.max = max(1, plan.count)
            self.progress.value = 0
        self.count.value = ""
        self.count.disabled = plan.count == 0
        self.cancel_button.disabled = True
        self._arm()

    def set_staging(self, text: str) -> None:
        """Say how the run is staged ("27 servers in 5 waves: 1, 10, 7, 7, 2")."""
        self.staging.value = f'<div class="ecs-info"><b>{esc(text)}</b></div>' if text else ""

    def say(self, html_text: str) -> None:
        """Show a message (HTML) under the buttons."""
        self.message.value = html_text

    def submit(self) -> bool:
        """Check the typed number against the plan and start the run; True when it started.

        A wrong number sends nothing. The run starts at most once per plan.
        """
        with self._lock:
            if self._fired or self.plan is None or self.run is None or self.request is None:
                return False
            self._fired = True
            plan, run, request = self.plan, self.run, self.request
        self.submit_button.disabled = True
        try:
            confirmed = plan.confirm(int(self.count.value.strip()))
        except ConfirmationError as exc:
            return self._refuse(str(exc))
        except ValueError:
            return self._refuse("type the number of servers, in digits: nothing was sent")
        rollout = self.rollout_source() if self.rollout_source is not None else None
        if self.rollout_source is not None and rollout is None:
            return self._refuse("fix the rollout settings: nothing was sent")
        self.count.disabled = True
        self._unsubscribe = run.book.subscribe(self._follow)
        try:
            run.start(confirmed, request, rollout=rollout)
        except Exception as exc:  # the run did not start; the button stays disabled
            self._unsubscribe()
            self._unsubscribe = None
            self.say(f'<div class="ecs-err">{esc(exc)}</div>')
            return False
        self.cancel_button.disabled = False
        self.say(f'<div class="ecs-info">started; journal: {esc(run.journal_path)}</div>')
        for listener in list(self._listeners):
            listener(run)
        return True

    def cancel(self) -> None:
        """Send nothing more (what was sent is still tracked)."""
        if self.run is None or not self._fired:
            return
        self.run.cancel()
        self.cancel_button.disabled = True
        self.say('<div class="ecs-warn">cancelled: nothing more will be sent</div>')

    def wait(self, timeout: float | None = None) -> Summary:
        """Block until the run has finished; its summary."""
        if self.run is None:
            raise RuntimeError("nothing has been started")
        summary = self.run.wait(timeout)
        self._follow(None)
        return summary

    def on_start(self, listener: RunListener) -> None:
        """Call ``listener(run)`` once a run has started."""
        self._listeners.append(listener)

    # -- internals ---------------------------------------------------------------------------

    def _arm(self) -> None:
        ready = self.plan is not None and self.plan.count > 0 and not self._fired
        self.submit_button.disabled = not (ready and self.count.value.strip())
        if self.plan is not None:
            self.submit_button.description = f"Reinstall {plural(self.plan.count, 'server')}"

    def _refuse(self, why: str) -> bool:
        with self._lock:
            self._fired = False
        self.say(f'<div class="ecs-err">{esc(why)}</div>')
        self._arm()
        return False

    def _follow(self, _change: BookChange | None) -> None:
        """Book listener (the run's thread): show the submitter's progress."""
        run = self.run
        if run is None:
            return
        try:
            p = run.submitter.progress()
            done = run.wait_submitted(0) or (p.total > 0 and p.done >= p.total)
            with self.progress.hold_sync():
                self.progress.value = min(p.done, self.progress.max)
                self.progress.bar_style = "success" if done and not p.refused else ""
            self.progress_label.value = esc(
                f"{p.done:,} of {self.progress.max:,}: accepted {p.accepted:,}, "
                f"refused {p.refused:,}, unknown {p.unknown:,}, not sent {p.not_sent:,}"
            )
            # Keep following: a halted run that is continued sends again (Cancel with it).
            self.cancel_button.disabled = done or run.submitter.cancelled
        except Exception as exc:  # never break the engine's thread
            self.say(f'<div class="ecs-err">display error: {esc(exc)}</div>')

    def __repr__(self) -> str:
        count = self.plan.count if self.plan else None
        return f"ConfirmPanel(plan={count}, started={self._fired})"


def _describe(plan: Plan) -> str:
    n = plan.count
    if n == 0:
        head = (
            '<div class="ecs-err"><b>Nothing to reinstall</b>: every server would be skipped.</div>'
        )
    else:
        head = (
            f'<div class="ecs-warn"><b>This reinstalls the OS of {plural(n, "server")}'
            f" and wipes {'their' if n != 1 else 'its'} system "
            f"disk{'s' if n != 1 else ''}.</b> Type {n} to confirm.</div>"
        )
    parts = [head]
    if plan.skipped:
        items = "".join(
            f"<li>{esc(s.name or s.server_id)} <code>{esc(s.server_id)}</code>: "
            f"{esc(s.reason)}</li>"
            for s in plan.skipped[:SHOWN_SKIPS]
        )
        more = len(plan.skipped) - SHOWN_SKIPS
        tail = f"<li>… and {more:,} more</li>" if more > 0 else ""
        parts.append(
            f"<div>{plural(len(plan.skipped), 'server')} skipped:<ul>{items}{tail}</ul></div>"
        )
    for warning in plan.warnings:
        parts.append(f'<div class="ecs-warn">⚠ {esc(warning)}</div>')
    return "".join(parts)
