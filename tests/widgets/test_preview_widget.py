"""The preview shows the exact request, masked, and updates as the form changes."""

from __future__ import annotations

import base64

from ecs_notebook.model import ReinstallRequest, UserData
from ecs_notebook.secrets import Secret
from ecs_notebook.widgets import PreviewPane, ReinstallForm
from ecs_notebook.widgets.form import LOGIN_PASSWORD
from ecs_notebook.widgets.testing import CommRecorder, send_from_browser

PROJECT = "0123456789abcdef0123456789abcdef"
SERVER = "b0a9d2b4-2cae-4b66-a6ba-6af70f3bd7f8"


def test_body_is_masked_and_user_data_shown_decoded_and_encoded(recorder: CommRecorder) -> None:
    pane = PreviewPane(endpoint="https://ecs.tr-west-1.myhuaweicloud.com", project_id=PROJECT)
    text = "#cloud-config\nruncmd: [echo hi]\n"
    request = ReinstallRequest(
        adminpass=Secret("Abcd@1234xyz"), mode="withStopServer", user_data=UserData.from_text(text)
    )
    pane.show(request, [SERVER, "another"])
    encoded = base64.b64encode(text.encode()).decode()
    assert "&quot;adminpass&quot;: &quot;********&quot;" in pane.body.value
    assert encoded in pane.body.value and encoded in pane.user_data_encoded.value
    assert "runcmd: [echo hi]" in pane.user_data_text.value
    assert pane.url.value.startswith(
        "<code><b>POST</b> https://ecs.tr-west-1.myhuaweicloud.com"
        f"/v2/{PROJECT}/cloudservers/{SERVER}/reinstallos</code>"
    )
    assert "and 1 more server" in pane.url.value
    assert 0 < pane.gauge.value < 1 and pane.gauge.bar_style == "success"
    assert "32 of 32,768 bytes" in pane.gauge_label.value
    assert "Abcd@1234xyz" not in recorder.transcript()


def test_preview_follows_the_form_as_the_user_types() -> None:
    form = ReinstallForm(region="eu-west-0")
    pane = PreviewPane(region="eu-west-0")
    form.on_change(pane.show)
    form.login.value = LOGIN_PASSWORD
    assert "no body while errors remain" in pane.body.value
    send_from_browser(form.adminpass.box, value="Abcd@1234xyz")
    send_from_browser(form.adminpass_repeat.box, value="Abcd@1234xyz")
    assert "&quot;adminpass&quot;: &quot;********&quot;" in pane.body.value
    assert "{server_id}" in pane.url.value and "{project_id}" in pane.url.value
    form.mode.value = False
    assert "eu-west-0" in pane.problems.value and "ecs-warn" in pane.problems.value
    send_from_browser(form.user_data, value="x" * 30_000)
    assert pane.gauge.bar_style == "warning" and round(pane.gauge.value) == 92
    send_from_browser(form.user_data, value="x" * 40_000)
    assert pane.gauge.bar_style == "danger" and pane.gauge.value == 100
    assert "40,000 of 32,768 bytes" in pane.gauge_label.value
    assert "no body while errors remain" in pane.body.value
