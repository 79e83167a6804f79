"""Pause / Continue / Cancel for a running :class:`~ecs_notebook.fleet.FleetRun`.

A thin view: each button calls one ``FleetRun`` method. Pause stops sending (the rows
not sent stay planned, jobs already sent are still tracked), Continue sends again, and
Cancel is the only one that makes the rows not sent ``NOT_SENT``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..fleet import BookChange, FleetRun
from .styles import classed, esc


class RunControls(widgets.VBox):  # type: ignore[misc]
    """Buttons that pause, continue and cancel the run they are attached to."""

    def __init__(self) -> None:
        self.run: FleetRun | None = None
        self._paused = False
        self._cancelled = False
        self._unsubscribe: Callable[[], None] | None = None
        self.pause_button = classed(
            widgets.Button(
                description="Pause",
                icon="pause",
                tooltip="send nothing new; keep tracking what was sent",
                disabled=True,
            ),
            "ecs-run-pause",
        )
        self.continue_button = classed(
            widgets.Button(
                description="Continue", icon="play", tooltip="send the rest", disabled=True
            ),
            "ecs-run-continue",
        )
        self.cancel_button = classed(
            widgets.Button(
                description="Cancel run",
                icon="stop",
                tooltip="never send the rest (they become NOT_SENT); keep tracking what was sent",
                disabled=True,
            ),
            "ecs-run-cancel",
        )
        self.state = classed(widgets.HTML(), "ecs-run-state")
        super().__init__(
            [
                widgets.HBox([self.pause_button, self.continue_button, self.cancel_button]),
                self.state,
            ]
        )
        self.add_class("ecs-run-controls")
        self.pause_button.on_click(lambda _: self.pause())
        self.continue_button.on_click(lambda _: self.proceed())
        self.cancel_button.on_click(lambda _: self.cancel())

    def attach(self, run: FleetRun) -> None:
        """Control ``run`` from now on."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.run, self._paused, self._cancelled = run, False, False
        self._unsubscribe = run.book.subscribe(self._changed)
        self.state.value = ""
        if run.running:
            run.add_done_callback(lambda: self._changed(None))
        self._refresh()

    def pause(self) -> None:
        """Send nothing new until :meth:`proceed`."""
        if self.run is None or not self.run.running or self._cancelled:
            return
        self.run.pause()
        self._paused = True
        self.state.value = (
            '<span class="ecs-warn">paused: nothing new is sent; jobs already sent are still '
            "tracked. Continue sends the rest; Cancel run never sends it.</span>"
        )
        self._refresh()

    def proceed(self) -> None:
        """Send the rest after :meth:`pause`."""
        if self.run is None or not self._paused:
            return
        self.run.proceed()
        self._paused = False
        self.state.value = '<span class="ecs-info">continuing</span>'
        self._refresh()

    def cancel(self) -> None:
        """Never send the rest (``NOT_SENT``); what was sent is still tracked."""
        if self.run is None or not self.run.running:
            return
        self.run.cancel()
        self._cancelled, self._paused = True, False
        self.state.value = (
            '<span class="ecs-warn">cancelled: the servers not sent will not be; '
            "jobs already sent are still tracked</span>"
        )
        self._refresh()

    def _changed(self, _change: BookChange | None) -> None:
        # The run's thread: only the enabled state can change from here.
        try:
            self._refresh()
        except Exception as exc:  # never break the engine's thread
            self.state.value = f'<span class="ecs-err">display error: {esc(exc)}</span>'

    def _refresh(self) -> None:
        live = self.run is not None and self.run.running and not self._cancelled
        self.pause_button.disabled = not live or self._paused
        self.continue_button.disabled = not live or not self._paused
        self.cancel_button.disabled = not live
        if self.run is not None and not self.run.running and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def __repr__(self) -> str:
        where: Any = self.run.journal_path if self.run is not None else None
        return f"RunControls(run={str(where)!r}, paused={self._paused})"
