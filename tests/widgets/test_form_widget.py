"""The form validates as the user types, next to each field, through the request model."""

from __future__ import annotations

import gzip

import pytest

from ecs_notebook.client import SyncEcsClient
from ecs_notebook.model import ReinstallRequest, ValidationError
from ecs_notebook.model.servers import Keypair
from ecs_notebook.simulator import Simulator
from ecs_notebook.widgets import ReinstallForm
from ecs_notebook.widgets.form import (
    LOGIN_NONE,
    LOGIN_PASSWORD,
    PASSWORD_NOT_REPEATED,
    PASSWORDS_DIFFER,
)
from ecs_notebook.widgets.testing import CommRecorder, send_from_browser, upload_from_browser

USER_ID = "0123456789abcdef0123456789abcdef"


def shown(form: ReinstallForm) -> dict[str, str]:
    """The problem areas that show something, by field."""
    return {field: area.value for field, area in form.problem_areas.items() if area.value}


def test_each_problem_appears_next_to_its_field_as_the_user_types() -> None:
    form = ReinstallForm(keypairs=[Keypair("ops-key"), Keypair("dev-key")])
    form.keyname.value = "ops-key"
    assert "is required with a key pair" in shown(form)["userid"]
    assert form.submit_button.disabled
    send_from_browser(form.userid, value="0123")
    assert "32 lower-case hexadecimal" in shown(form)["userid"]
    assert 'data-severity="warning"' in shown(form)["userid"]
    assert not form.submit_button.disabled  # a warning does not block
    send_from_browser(form.userid, value=USER_ID)
    assert shown(form) == {}

    form.encrypt.value = True
    assert "is required to encrypt" in shown(form)["__system__cmkid"]
    assert form.submit_button.disabled
    send_from_browser(form.cmk_id, value="too-short")
    assert "must be 36 characters (it has 9)" in shown(form)["__system__cmkid"]
    send_from_browser(form.cmk_id, value="c" * 36)
    assert "__system__cmkid" not in shown(form)
    assert not form.submit_button.disabled


def test_errors_and_warnings_are_styled_apart_and_carry_css_classes() -> None:
    form = ReinstallForm(region="tr-central-201")
    form.mode.value = False
    form.login.value = LOGIN_NONE
    problems = shown(form)
    assert 'class="ecs-warn"' in problems["mode"] and "tr-central-201" in problems["mode"]
    assert 'class="ecs-err"' in problems["user_data"]
    # The key pair field is hidden with this login, so its regional warning moves to "other".
    assert "key pair" in problems["other"] and "keyname" not in problems
    assert "ecs-problem-user-data" in form.problem_areas["user_data"]._dom_classes
    assert "ecs-problem-userid" in form.problem_areas["userid"]._dom_classes


def test_password_problems_show_under_the_password_box() -> None:
    form = ReinstallForm()
    form.login.value = LOGIN_PASSWORD
    send_from_browser(form.adminpass.box, value="short")
    assert "8 to 26 characters" in shown(form)["adminpass"]
    assert form.submit_button.disabled
    send_from_browser(form.adminpass.box, value="Better-Pass-2024")
    assert PASSWORD_NOT_REPEATED in shown(form)["adminpass"]
    assert form.submit_button.disabled
    send_from_browser(form.adminpass_repeat.box, value="Better-Pass-2024")
    assert "adminpass" not in shown(form)
    assert not form.submit_button.disabled


def test_the_password_must_be_typed_twice_alike() -> None:
    form = ReinstallForm()
    form.login.value = LOGIN_PASSWORD
    send_from_browser(form.adminpass.box, value="Better-Pass-2024")
    send_from_browser(form.adminpass_repeat.box, value="Better-Pass-2025")  # a typo
    assert PASSWORDS_DIFFER in shown(form)["adminpass"]
    assert form.submit_button.disabled
    with pytest.raises(ValidationError, match="passwords differ"):
        form.submit()
    send_from_browser(form.adminpass_repeat.box, value="Better-Pass-2024")  # no Enter needed
    assert "adminpass" not in shown(form) and not form.submit_button.disabled
    send_from_browser(form.adminpass.box, value="Other-Pass-2024")  # first box changed again
    assert PASSWORDS_DIFFER in shown(form)["adminpass"]


def test_a_fresh_form_shows_no_error_until_a_field_is_touched() -> None:
    form = ReinstallForm(keypairs=[Keypair("ops-key"), Keypair("dev-key")])
    assert form.submit_button.disabled  # a key pair is required
    assert "ecs-err" not in "".join(a.value for a in form.problem_areas.values())
    assert "still needed: user data" in form.todo.value  # no login chosen yet
    form.encrypt.value = True  # touched: its own problem shows at once, in red
    assert "ecs-err" in form.problem_areas["__system__cmkid"].value or "ecs-err" in (
        form.problem_areas["__system__encrypted"].value
    )
    with pytest.raises(ValidationError):
        form.submit()  # a submit attempt shows every problem, touched or not
    assert "ecs-err" in form.problem_areas["user_data"].value and form.todo.value == ""


def test_the_only_key_pair_is_preselected() -> None:
    form = ReinstallForm(keypairs=[Keypair("ops-key", user_id=USER_ID)])
    assert form.keyname.value == "ops-key" and form.userid.value == USER_ID
    assert form.sendable and not form.submit_button.disabled


def test_two_key_pairs_are_not_preselected() -> None:
    form = ReinstallForm(keypairs=[Keypair("a", user_id=USER_ID), Keypair("b", user_id=USER_ID)])
    assert form.keyname.value == ""


def test_choosing_a_key_pair_fills_its_user_id(sim: Simulator, client: SyncEcsClient) -> None:
    form = ReinstallForm(client)
    assert sim.keypair_name in form.keyname.options[1]
    form.keyname.value = sim.keypair_name  # list_keypairs gives no owner: get_keypair does
    assert form.userid.value == sim.user_id
    assert form.request.keyname == sim.keypair_name and form.sendable


def test_submit_hands_over_a_valid_request_and_refuses_an_invalid_one() -> None:
    form = ReinstallForm(
        keypairs=[Keypair("ops-key", user_id=USER_ID), Keypair("dev-key", user_id=USER_ID)]
    )
    got: list[ReinstallRequest] = []
    form.on_submit(got.append)
    form.submit_button.click()  # disabled in the browser; code clicks are guarded too
    assert got == [] and "invalid request" in form.message.value
    with pytest.raises(ValidationError):
        form.submit()
    form.keyname.value = "ops-key"
    assert form.userid.value == USER_ID
    form.submit_button.click()
    assert [r.keyname for r in got] == ["ops-key"] and form.message.value == ""


def test_uploaded_text_goes_into_the_box_and_the_upload_is_not_kept(
    recorder: CommRecorder,
) -> None:
    form = ReinstallForm()
    upload_from_browser(form.upload, "init.yaml", b"#cloud-config\nruncmd: [ls]\n")
    assert form.user_data.value == "#cloud-config\nruncmd: [ls]\n"
    assert form.upload.value == ()
    assert form.request.user_data is not None and form.request.user_data.size == 27
    assert "init.yaml" in form.user_data_note.value


def test_uploaded_binary_is_used_until_the_user_types() -> None:
    form = ReinstallForm()
    form.login.value = LOGIN_NONE
    blob = gzip.compress(b"#!/bin/sh\necho hi\n" * 50)
    upload_from_browser(form.upload, "init.gz", blob)
    assert form.request.user_data is not None
    assert form.request.user_data.raw == blob and form.request.user_data.source == "init.gz"
    assert form.user_data.value == "" and "binary" in form.user_data_note.value
    assert form.sendable
    send_from_browser(form.user_data, value="#cloud-config\n")
    assert form.request.user_data is not None and form.request.user_data.source == "text"


def test_user_data_over_32_kb_blocks_submit() -> None:
    form = ReinstallForm()
    form.login.value = LOGIN_NONE
    send_from_browser(form.user_data, value="#" * (32 * 1024 + 1))
    assert "the limit is 32,768 bytes" in shown(form)["user_data"]
    assert form.submit_button.disabled
