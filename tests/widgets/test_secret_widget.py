"""The admin password never reaches synced widget state, a comm message or a repr."""

from __future__ import annotations

import json

from ipywidgets import Widget
from ipywidgets.widgets.widget import _instances

from ecs_notebook.secrets import Secret
from ecs_notebook.widgets import ReinstallForm, SecretInput
from ecs_notebook.widgets.form import LOGIN_PASSWORD
from ecs_notebook.widgets.testing import CommRecorder, send_from_browser

PASSWORD = "Tr0ub4dor&3x!Q"


def everything_visible(recorder: CommRecorder, *objects: object) -> str:
    """All that could leave the kernel or be saved: messages, widget state, reprs."""
    state = json.dumps(Widget.get_manager_state(), default=repr)
    return "\n".join([recorder.transcript(), state, *(repr(o) for o in objects)])


def test_typed_password_is_kept_as_a_secret_and_cleared_in_the_browser(
    recorder: CommRecorder,
) -> None:
    field = SecretInput("admin password", "ecs-adminpass")
    mark = recorder.mark()
    send_from_browser(field.box, value=PASSWORD)
    assert field.secret == Secret(PASSWORD)
    assert field.box.value == ""
    assert field.status.value == "password set (14 characters)"
    updates = [m.data for m in recorder.since(mark) if m.comm_id == field.box.comm.comm_id]
    # The browser is told to clear the box, and nothing is echoed back.
    assert {"method": "update", "state": {"value": ""}, "buffer_paths": []} in updates
    assert all(u["method"] != "echo_update" for u in updates)
    assert PASSWORD not in everything_visible(recorder, field)


def test_password_set_from_code_is_never_synced(recorder: CommRecorder) -> None:
    field = SecretInput()
    field.box.value = PASSWORD  # as a careless runbook might
    assert field.secret == Secret(PASSWORD)
    assert field.box.value == ""
    field.set("another-Pass1")
    assert field.secret is not None and field.secret.reveal() == "another-Pass1"
    visible = everything_visible(recorder, field, field.box)
    assert PASSWORD not in visible and "another-Pass1" not in visible


def test_clear_forgets_the_password() -> None:
    field = SecretInput()
    send_from_browser(field.box, value=PASSWORD)
    field.clear_button.click()
    assert field.secret is None
    assert "no password set" in field.status.value


def test_form_never_shows_the_password_anywhere(recorder: CommRecorder) -> None:
    form = ReinstallForm(region="tr-central-201")
    form.login.value = LOGIN_PASSWORD
    send_from_browser(form.adminpass.box, value=PASSWORD)
    send_from_browser(form.adminpass_repeat.box, value=PASSWORD)
    send_from_browser(form.user_data, value=f"#cloud-config\npassword: {PASSWORD[:3]}\n")
    assert form.request.adminpass == Secret(PASSWORD)
    assert PASSWORD not in everything_visible(recorder, form, form.request)
    for widget in list(_instances.values()):
        assert PASSWORD not in json.dumps(widget.get_state(), default=repr)
