"""The whole console in one call: form and preview, fleet picker, confirmation, job table
(with elapsed time, ETA and the fleet picture) and the outcome with a CSV download: a
complete app, so that Voila needs no cell to be run.

>>> ui = simulator_console(servers=50, seed=1)      # a fresh in-process simulator
>>> ui = console(SyncEcsClient.connect("tr-west-1"), journal="runs/")
>>> ui                                              # display it in a cell

Every step can be driven from code (headless runbooks and tests): set widget values,
``ui.plan()``, ``ui.confirm.count.value = "12"``, ``ui.confirm.submit()``, ``ui.wait()``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import ipywidgets as widgets

from ..auth import AkSkAuth, AkSkCredentials
from ..client import EcsClient, SyncEcsClient
from ..errors import EcsNotebookError
from ..fleet import (
    FleetRun,
    Plan,
    PollSchedule,
    RunRefusedError,
    Summary,
    check_new_journal,
    check_no_run_in_progress,
    new_journal_path,
)
from ..fleet.lifecycle import DEFAULT_JOURNAL_DIR
from ..model import ReinstallRequest
from ..model.servers import Server
from ..simulator import Simulator
from .confirm import ConfirmPanel
from .controls import RunControls
from .form import ReinstallForm
from .outcome import OutcomePanel
from .picker import FleetPicker
from .preview import PreviewPane
from .rollout import RolloutPanel
from .styles import columns, esc, responsive, style_widget, wrap_row
from .table import JobTable

#: Quick polling for simulator demos (jobs of a few seconds).
DEMO_SCHEDULE: Final = PollSchedule(
    first=0.5,
    near_interval=0.3,
    learning_cap=1.0,
    max_interval=2.0,
    unknown_interval=0.3,
    unknown_grace=2.0,
)


def _heading(text: str) -> Any:
    return widgets.HTML(f"<h3>{esc(text)}</h3>")


class Console(widgets.VBox):  # type: ignore[misc]
    """Compose, preview, pick, confirm, submit and track reinstalls with one client.

    ``journal`` is a directory (a new journal file per run) or a ``.jsonl`` file for the
    first run. ``servers`` skips the initial listing; ``schedule`` and ``concurrency``
    go to each :class:`FleetRun`.
    """

    def __init__(
        self,
        client: SyncEcsClient,
        *,
        journal: str | os.PathLike[str] = DEFAULT_JOURNAL_DIR,
        region: str | None = None,
        servers: Sequence[Server] | None = None,
        schedule: PollSchedule | None = None,
        concurrency: int = 10,
    ) -> None:
        self.client = client
        self.region = region if region is not None else client.aio.region
        self.journal = Path(journal)
        self.schedule = schedule
        self.concurrency = concurrency
        self.run: FleetRun | None = None
        self.runs: list[FleetRun] = []
        self.simulator: Simulator | None = None
        try:
            project_id: str | None = client.project_id()
        except EcsNotebookError:
            project_id = None

        self.form = ReinstallForm(client, region=self.region)
        self.preview = PreviewPane(
            endpoint=client.aio.endpoint, project_id=project_id, region=self.region
        )
        self.picker = FleetPicker(client, servers=servers)
        self.confirm = ConfirmPanel()
        self.table = JobTable()
        self.outcome = OutcomePanel()
        self.controls = RunControls()
        #: The run controls (pause / continue / cancel), above the job table.
        self.controls_row = wrap_row([self.controls])
        self.rollout = RolloutPanel()
        self._wave_marked = 0  # the last wave marked on the fleet picture
        super().__init__(
            [
                style_widget(),
                _heading("1. Request"),
                columns([self.form, self.preview], min_width="420px"),
                _heading("2. Servers"),
                self.picker,
                _heading("3. Confirm"),
                columns([self.confirm, self.rollout], min_width="420px"),
                _heading("4. Jobs"),
                self.controls_row,
                self.table,
                _heading("5. Outcome"),
                self.outcome,
            ]
        )
        self.layout.width = "100%"
        self.add_class("ecs-console")
        responsive(self)
        self.table.on_finished(self._finished)
        self.form.on_change(self._request_changed)
        self.picker.on_selection(self._selection_changed)
        self.form.on_submit(self._plan)
        self.confirm.on_start(self._started)
        self.confirm.rollout_source = lambda: self.rollout.rollout
        self.rollout.on_continue(self._continue)
        for box in self.rollout.inputs:
            box.observe(lambda _: self._staging_changed(), "value")
        self._request_changed(self.form.request)

    # -- code API --------------------------------------------------------------------------

    def plan(self) -> Plan | None:
        """Submit the form: plan the selected servers and ask for confirmation.

        Raises ``ValidationError`` while the form has errors; returns the plan shown
        (``None`` when nothing could be planned; the reason is on screen).
        """
        self.form.submit()
        return self.confirm.plan

    def wait(self, timeout: float | None = None) -> Summary:
        """Block until the current run has finished; its summary."""
        if self.run is None:
            raise RuntimeError("nothing has been started")
        summary = self.confirm.wait(timeout)
        self.table.wait(timeout)
        return summary

    def attach_run(self, run: FleetRun) -> None:
        """Follow a run started elsewhere (``FleetRun.resume(...)``, say) in the job table."""
        self._started(run)

    # -- wiring ------------------------------------------------------------------------------

    def _request_changed(self, request: ReinstallRequest) -> None:
        self.preview.show(request, self.picker.selected_ids)
        self.picker.set_request(request)

    def _selection_changed(self, ids: tuple[str, ...]) -> None:
        self.preview.show(self.form.request, ids)

    def _plan(self, request: ReinstallRequest) -> None:
        ids = self.picker.selected_ids
        journal = self._journal_path()
        try:
            check_no_run_in_progress(self.run)
            if not ids:
                raise RunRefusedError("select at least one server (step 2)")
            check_new_journal(journal)
        except RunRefusedError as exc:
            self.confirm.say(f'<div class="ecs-err">{esc(exc)}</div>')
            return
        run = FleetRun(self.client, journal, schedule=self.schedule, concurrency=self.concurrency)
        try:
            plan = run.plan(request, server_ids=ids)  # fresh server state, engine rules
        except EcsNotebookError as exc:
            self.confirm.say(f'<div class="ecs-err">could not plan: {esc(exc)}</div>')
            return
        self.confirm.show(plan, request, run)
        self.rollout.set_plan_size(plan.count)
        self.rollout.lock(False)
        self._staging_changed()

    def _staging_changed(self) -> None:
        rollout, plan = self.rollout.rollout, self.confirm.plan
        self.confirm.set_staging(rollout.describe(plan.count) if rollout and plan else "")

    def _started(self, run: FleetRun) -> None:
        self.run = run
        self.runs.append(run)
        self.outcome.waiting("the run is under way: its outcome shows here when it ends")
        self.table.attach(run.book)
        self.controls.attach(run)
        self.rollout.lock()
        self._wave_marked = 0
        run.book.subscribe(lambda _: self._show_rollout(run))

    def _continue(self) -> None:
        """Continue pressed: the run proceeds (after it ended halted, the views follow again)."""
        run = self.run
        if run is None:
            return
        ended = not run.running
        run.proceed()
        if ended:
            self._wave_marked = 0  # re-attaching clears the picture: mark the next wave again
            self.table.attach(run.book)
            self.controls.attach(run)

    def _show_rollout(self, run: FleetRun) -> None:
        view = run.rollout_view()
        if view is not None and run is self.run:
            self.rollout.show(view)
            if len(view.waves) > 1 and view.wave > self._wave_marked:
                self._wave_marked = view.wave
                self.table.mark(f"wave {view.wave}")

    def _finished(self) -> None:
        """The job table saw every row final: show the outcome (the run's thread)."""
        run = self.run
        if run is not None and run.book is self.table.book:
            self.outcome.show(run)

    def _journal_path(self) -> Path:
        return new_journal_path(self.journal, len(self.runs) + 1)

    def __repr__(self) -> str:
        return f"Console(endpoint={self.client.aio.endpoint!r}, runs={len(self.runs)})"


def simulator_client(sim: Simulator) -> SyncEcsClient:
    """A blocking client wired to ``sim`` in process (no network, the simulator's AK/SK)."""
    credentials = AkSkCredentials(sim.access_key, sim.secret_key, project_id=sim.project_id)
    return SyncEcsClient(
        EcsClient(
            endpoint=sim.endpoint,
            auth=AkSkAuth(credentials),
            project_id=sim.project_id,
            region=sim.region,
            transport=sim.transport(),
        )
    )


def console(
    target: SyncEcsClient | EcsClient | Simulator | None = None,
    *,
    journal: str | os.PathLike[str] = DEFAULT_JOURNAL_DIR,
    region: str | None = None,
    **options: Any,
) -> Console:
    """The console for a client, an async client or a simulator (``None``: connect from the
    environment, like ``SyncEcsClient.connect(region)``). ``options`` go to :class:`Console`."""
    simulator = target if isinstance(target, Simulator) else None
    if target is None:
        client = SyncEcsClient.connect(region)
    elif isinstance(target, Simulator):
        client = simulator_client(target)
    elif isinstance(target, EcsClient):
        client = SyncEcsClient(target)
    else:
        client = target
    ui = Console(client, journal=journal, region=region, **options)
    ui.simulator = simulator
    return ui


def simulator_console(
    servers: int = 50,
    seed: int = 1,
    *,
    job_seconds: float = 6.0,
    journal: str | os.PathLike[str] | None = None,
    schedule: PollSchedule | None = None,
    **simulator_options: Any,
) -> Console:
    """A console against a fresh in-process :class:`Simulator` (for demos and tutorials).

    Journals go to a new temporary directory unless ``journal`` is given; the simulator is
    ``ui.simulator``.
    """
    sim = Simulator(servers=servers, seed=seed, job_seconds=job_seconds, **simulator_options)
    where = journal if journal is not None else tempfile.mkdtemp(prefix="ecs-notebook-sim-")
    return console(sim, journal=where, schedule=schedule or DEMO_SCHEDULE)
