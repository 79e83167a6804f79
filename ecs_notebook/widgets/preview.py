"""The live preview: the exact request that will be sent, with the password masked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from ..model import Preview, ReinstallRequest, ValidationError, preview, reinstall_path
from ._problems import render_problems
from .styles import classed, esc, responsive, style_widget


def _pre(text: str) -> str:
    return f'<pre class="ecs-pre">{esc(text)}</pre>'


class PreviewPane(widgets.VBox):  # type: ignore[misc]
    """Method and URL, JSON body (password masked), user data decoded and encoded with a
    gauge against the 32 KB limit, and every problem (regional warnings included)."""

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        project_id: str | None = None,
        region: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.project_id = project_id
        self.region = region
        self.current: Preview | None = None
        self.url = classed(widgets.HTML(), "ecs-preview-url", "ecs-url")
        self.body = classed(widgets.HTML(), "ecs-preview-body")
        self.problems = classed(widgets.HTML(), "ecs-preview-problems")
        self.gauge = classed(
            widgets.FloatProgress(min=0.0, max=100.0, description="user data"), "ecs-preview-gauge"
        )
        self.gauge_label = classed(widgets.HTML(), "ecs-preview-gauge-label")
        self.user_data_text = classed(widgets.HTML(), "ecs-preview-user-data")
        self.user_data_encoded = classed(widgets.HTML(), "ecs-preview-user-data-encoded")
        super().__init__(
            [
                style_widget(),
                widgets.HTML("<b>Request preview</b>"),
                self.url,
                self.body,
                self.problems,
                widgets.HBox([self.gauge, self.gauge_label]),
                widgets.HTML("<b>user data, decoded</b>"),
                self.user_data_text,
                widgets.HTML("<b>user data, base64 (as sent)</b>"),
                self.user_data_encoded,
            ]
        )
        self.add_class("ecs-preview")
        responsive(self)
        self.show(ReinstallRequest())

    def show(self, request: ReinstallRequest, server_ids: Sequence[str] = ()) -> Preview:
        """Render ``request`` as it would be sent to ``server_ids`` (placeholders if none)."""
        shown = preview(request, region=self.region)
        self.current = shown
        self.url.value = self._url(server_ids)
        if shown.body_json is None:
            self.body.value = '<div class="ecs-err">no body while errors remain</div>'
        else:
            self.body.value = _pre(shown.body_json)
        self.problems.value = render_problems(shown.problems, labelled=True)
        self._show_user_data(shown)
        return shown

    def _url(self, server_ids: Sequence[str]) -> str:
        endpoint = self.endpoint or "{endpoint}"
        project = self.project_id or "{project_id}"
        server = server_ids[0] if server_ids else "{server_id}"
        try:
            path = reinstall_path(project, server)
        except ValidationError:
            path = f"/v2/{project}/cloudservers/{server}/reinstallos"
        more = len(server_ids) - 1
        tail = f" <i>(and {more:,} more server{'s' if more != 1 else ''})</i>" if more > 0 else ""
        return f"<code><b>POST</b> {esc(endpoint + path)}</code>{tail}"

    def _show_user_data(self, shown: Preview) -> None:
        share = shown.user_data_share
        with self.gauge.hold_sync():
            self.gauge.value = min(100.0, share * 100.0)
            over = shown.user_data_size > shown.user_data_limit
            self.gauge.bar_style = "danger" if over else ("warning" if share > 0.8 else "success")
        self.gauge_label.value = esc(
            f"{shown.user_data_size:,} of {shown.user_data_limit:,} bytes ({share:.1%})"
        )
        if shown.user_data_text is None:
            self.user_data_text.value = '<span class="ecs-info">none</span>'
            self.user_data_encoded.value = '<span class="ecs-info">none</span>'
        else:
            self.user_data_text.value = _pre(shown.user_data_text)
            self.user_data_encoded.value = _pre(shown.user_data_encoded or "")

    def __repr__(self) -> str:
        state: Any = "sendable" if self.current and self.current.sendable else "not sendable"
        return f"PreviewPane({state})"
