"""The fleet picker: filter the project's servers, select some, and see the pre-flight result.

One page of rows is on screen at a time (checkbox + row), so it stays light with thousands of
servers; the selection is a plain Python set of server ids. Filtering is
:class:`ServerFilter`/:func:`select`, the pre-flight check is :func:`preflight`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ipywidgets as widgets

from ..client import SyncEcsClient
from ..errors import EcsNotebookError
from ..fleet import ServerFilter, preflight, select
from ..model import ReinstallRequest
from ..model.servers import Server
from .styles import classed, esc, responsive, style_widget

SelectionListener = Callable[[tuple[str, ...]], object]
_ANY = ("any", "")
_HEADER = (
    '<div class="ecs-prow h"><span>name</span><span>server id</span><span>status</span>'
    "<span>zone</span><span>image</span><span>tags</span><span>pre-flight</span></div>"
)


def _row(server: Server, skip: str | None) -> str:
    check = (
        f'<span class="ecs-pf-skip" title="{esc(skip)}">will skip: {esc(skip)}</span>'
        if skip
        else '<span class="ecs-pf-ok">ok</span>'
    )
    return (
        f'<div class="ecs-prow"><span title="{esc(server.name)}">{esc(server.name)}</span>'
        f'<span class="m">{esc(server.id)}</span><span>{esc(server.status)}</span>'
        f"<span>{esc(server.availability_zone)}</span><span>{esc(server.image_name)}</span>"
        f"<span>{esc(','.join(server.tags))}</span>{check}</div>"
    )


def _tags(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


class FleetPicker(widgets.VBox):  # type: ignore[misc]
    """Choose servers by name pattern, status, tags, zone and image, page by page."""

    def __init__(
        self,
        client: SyncEcsClient | None = None,
        *,
        servers: Sequence[Server] | None = None,
        page_size: int = 25,
    ) -> None:
        self.client = client
        self.page_size = page_size
        self.servers: list[Server] = []
        self.matching: list[Server] = []
        self.skips: dict[str, str] = {}
        self.criteria = ServerFilter()
        self._request = ReinstallRequest()
        self._selected: set[str] = set()
        self._page = 0
        self._page_ids: list[str] = []
        self._syncing = False
        self._listeners: list[SelectionListener] = []

        def text(description: str, css: str, placeholder: str) -> Any:
            w = widgets.Text(description=description, placeholder=placeholder)
            return classed(w, css)

        self.name_pattern = text("name", "ecs-filter-name", "regular expression")
        self.status = classed(
            widgets.Dropdown(options=[_ANY], description="status"), "ecs-filter-status"
        )
        self.tags = text("tags", "ecs-filter-tags", "env=prod, role=web (all of them)")
        self.zone = classed(widgets.Dropdown(options=[_ANY], description="zone"), "ecs-filter-az")
        self.image = text("image", "ecs-filter-image", "part of the image name")
        self.filter_problem = classed(widgets.HTML(), "ecs-picker-problem")

        def button(description: str, css: str) -> Any:
            return classed(widgets.Button(description=description), css)

        self.select_all_button = button("select all matching", "ecs-picker-select-all")
        self.select_page_button = button("select this page", "ecs-picker-select-page")
        self.clear_button = button("clear selection", "ecs-picker-clear")
        self.reload_button = button("reload servers", "ecs-picker-reload")
        self.prev_button = button("◀", "ecs-picker-prev")
        self.next_button = button("▶", "ecs-picker-next")
        for b in (self.prev_button, self.next_button):
            b.layout.width = "3em"
        self.summary = classed(widgets.HTML(), "ecs-picker-summary")
        self._checks = [
            classed(
                widgets.Checkbox(indent=False, layout=widgets.Layout(width="28px")),
                "ecs-picker-check",
            )
            for _ in range(page_size)
        ]
        self._cells = [classed(widgets.HTML(), "ecs-picker-row") for _ in range(page_size)]
        self._rows = [
            widgets.HBox([c, h], layout=widgets.Layout(display="none", flex_flow="row nowrap"))
            for c, h in zip(self._checks, self._cells, strict=True)
        ]
        super().__init__(
            [
                style_widget(),
                widgets.HBox([self.name_pattern, self.status, self.zone]),
                widgets.HBox([self.tags, self.image]),
                self.filter_problem,
                widgets.HBox(
                    [
                        self.select_all_button,
                        self.select_page_button,
                        self.clear_button,
                        self.reload_button,
                        self.prev_button,
                        self.next_button,
                    ]
                ),
                self.summary,
                classed(
                    widgets.VBox(
                        [
                            widgets.HTML(_HEADER),
                            classed(widgets.VBox(self._rows), "ecs-picker-table"),
                        ]
                    ),
                    "ecs-picker-scroll",
                ),
            ]
        )
        self.add_class("ecs-picker")
        responsive(self)

        for control in (self.name_pattern, self.status, self.tags, self.zone, self.image):
            control.observe(lambda _: self._filter(), "value")
        for slot, check in enumerate(self._checks):
            check.observe(self._toggled(slot), "value")
        self.select_all_button.on_click(lambda _: self.select_all_matching())
        self.select_page_button.on_click(lambda _: self.select(self._page_ids))
        self.clear_button.on_click(lambda _: self.clear_selection())
        self.reload_button.on_click(lambda _: self.reload())
        self.prev_button.on_click(lambda _: self.show_page(self._page - 1))
        self.next_button.on_click(lambda _: self.show_page(self._page + 1))

        if servers is not None:
            self.set_servers(servers)
        elif client is not None:
            self.reload()
        else:
            self._render()

    # -- code API --------------------------------------------------------------------------

    def set_servers(self, servers: Iterable[Server]) -> None:
        """Show these servers (the selection keeps the ids that still exist)."""
        self.servers = list(servers)
        known = {s.id for s in self.servers}
        self._selected &= known
        self._syncing = True
        try:
            self.status.options = [
                _ANY,
                *((s, s) for s in sorted({s.status for s in self.servers})),
            ]
            zones = sorted({s.availability_zone for s in self.servers if s.availability_zone})
            self.zone.options = [_ANY, *((z, z) for z in zones)]
        finally:
            self._syncing = False
        self._preflight()
        self._filter()

    def reload(self) -> None:
        """List the servers again from the client."""
        if self.client is None:
            return
        try:
            servers = self.client.list_servers()
        except EcsNotebookError as exc:
            self.filter_problem.value = (
                f'<div class="ecs-err">{esc(f"could not list servers: {exc}")}</div>'
            )
            return
        self.set_servers(servers)

    def set_request(self, request: ReinstallRequest) -> None:
        """Re-run the pre-flight check for ``request`` (what would be skipped, and why)."""
        self._request = request
        self._preflight()
        self._render()

    @property
    def selected_ids(self) -> tuple[str, ...]:
        """The selected server ids, in listing order."""
        return tuple(s.id for s in self.servers if s.id in self._selected)

    @selected_ids.setter
    def selected_ids(self, ids: Iterable[str]) -> None:
        known = {s.id for s in self.servers}
        self._selected = {i for i in ids if i in known}
        self._selection_changed()

    def selected_servers(self) -> list[Server]:
        """The selected servers, in listing order."""
        return [s for s in self.servers if s.id in self._selected]

    def select(self, ids: Iterable[str]) -> None:
        """Add servers to the selection."""
        self.selected_ids = (*self._selected, *ids)

    def select_all_matching(self) -> None:
        """Add every server that matches the filters (all pages)."""
        self.select(s.id for s in self.matching)

    def clear_selection(self) -> None:
        """Select nothing."""
        self.selected_ids = ()

    def on_selection(self, listener: SelectionListener) -> None:
        """Call ``listener(selected_ids)`` when the selection changes."""
        self._listeners.append(listener)

    @property
    def page(self) -> int:
        """The page on screen (0-based)."""
        return self._page

    def show_page(self, page: int) -> None:
        """Go to ``page`` (clamped)."""
        last = max(0, (len(self.matching) - 1) // self.page_size)
        self._page = min(max(0, page), last)
        self._render()

    # -- internals ---------------------------------------------------------------------------

    def _preflight(self) -> None:
        plan = preflight(self.servers, self._request)
        self.skips = {s.server_id: s.reason for s in plan.skipped}

    def _filter(self) -> None:
        if self._syncing:
            return
        try:
            self.criteria = ServerFilter(
                name_regex=self.name_pattern.value or None,
                status=self.status.value or None,
                tags=_tags(self.tags.value),
                availability_zone=self.zone.value or None,
                image=self.image.value.strip() or None,
            )
        except ValueError as exc:
            self.filter_problem.value = f'<div class="ecs-err">{esc(exc)}</div>'
            return
        self.filter_problem.value = ""
        self.matching = select(self.servers, self.criteria)
        self.show_page(0)

    def _toggled(self, slot: int) -> Callable[[Any], None]:
        def toggle(change: Any) -> None:
            if self._syncing or slot >= len(self._page_ids):
                return
            server_id = self._page_ids[slot]
            if change["new"]:
                self._selected.add(server_id)
            else:
                self._selected.discard(server_id)
            self._selection_changed(render=False)

        return toggle

    def _selection_changed(self, *, render: bool = True) -> None:
        if render:
            self._render()
        else:
            self._summarise()
        ids = self.selected_ids
        for listener in list(self._listeners):
            listener(ids)

    def _render(self) -> None:
        start = self._page * self.page_size
        page = self.matching[start : start + self.page_size]
        self._page_ids = [s.id for s in page]
        self._syncing = True
        try:
            for slot, (box, check, cell) in enumerate(
                zip(self._rows, self._checks, self._cells, strict=True)
            ):
                if slot < len(page):
                    server = page[slot]
                    check.value = server.id in self._selected
                    cell.value = _row(server, self.skips.get(server.id))
                    box.layout.display = ""
                else:
                    box.layout.display = "none"
        finally:
            self._syncing = False
        self.prev_button.disabled = self._page == 0
        self.next_button.disabled = start + self.page_size >= len(self.matching)
        self._summarise()

    def _summarise(self) -> None:
        n = len(self.matching)
        start = self._page * self.page_size
        shown = f"{start + 1:,}–{min(n, start + self.page_size):,}" if n else "0"
        selected = self.selected_ids
        skipping = sum(1 for i in selected if i in self.skips)
        hidden = len(set(selected) - {s.id for s in self.matching})
        parts = [f"<b>{len(selected):,} selected</b>"]
        if skipping:
            parts.append(f'<span class="ecs-pf-skip">{skipping:,} will be skipped</span>')
        if hidden:
            parts.append(f"{hidden:,} hidden by the filters")
        parts.append(f"showing {shown} of {n:,} matching ({len(self.servers):,} servers)")
        self.summary.value = " · ".join(parts)

    def __repr__(self) -> str:
        return f"FleetPicker(servers={len(self.servers)}, selected={len(self._selected)})"
