"""Validation of the os-reinstall request: every rule, every field named, no body when invalid."""

from __future__ import annotations

import base64
import json
import pickle
from pathlib import Path

import pytest

from ecs_notebook.model import (
    USER_DATA_LIMIT,
    ReinstallRequest,
    UserData,
    ValidationError,
    check_password,
    preview,
    reinstall_path,
)
from ecs_notebook.secrets import Secret

USERID = "7e25b1da389f4697a79df3a0e5bfa2a8"
GOOD_PASSWORD = "Abcd@1234xyz"


def fields(request: ReinstallRequest, severity: str = "error") -> set[str]:
    return {p.field for p in request.validate() if p.severity == severity}


def test_keypair_request_builds_the_documented_body() -> None:
    request = ReinstallRequest(keyname="KeyPair-demo", userid=USERID, mode="withStopServer")
    assert request.body() == {
        "os-reinstall": {"keyname": "KeyPair-demo", "userid": USERID, "mode": "withStopServer"}
    }


def test_password_and_keypair_together_is_an_error_on_the_password() -> None:
    request = ReinstallRequest(adminpass=GOOD_PASSWORD, keyname="k1", userid=USERID)
    assert "adminpass" in fields(request)
    with pytest.raises(ValidationError) as caught:
        request.body()
    assert "not both" in str(caught.value)


def test_keypair_without_userid_names_the_user_id() -> None:
    assert fields(ReinstallRequest(keyname="k1")) == {"userid"}


def test_nothing_to_log_in_with_requires_user_data() -> None:
    assert fields(ReinstallRequest(mode="withStopServer")) == {"user_data"}
    ok = ReinstallRequest(user_data=UserData.from_text("#cloud-config\n"), mode="withStopServer")
    assert ok.is_valid


def test_every_problem_is_reported_at_once() -> None:
    request = ReinstallRequest(
        adminpass="short",
        keyname="bad name!",
        mode="now",
        byol="yes",
        encrypt_system_disk=True,
        cmk_id="too-short",
        user_data=UserData.from_bytes(b"x" * (USER_DATA_LIMIT + 1)),
    )
    assert fields(request) == {
        "adminpass",
        "keyname",
        "userid",
        "mode",
        "BYOL",
        "__system__cmkid",
        "user_data",
    }
    with pytest.raises(ValidationError) as caught:
        request.to_json()
    labels = str(caught.value)
    for label in ("admin password", "key pair", "user id", "mode", "BYOL", "CMK id", "user data"):
        assert label in labels


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("Ab1!", "8 to 26"),
        ("Abcdefgh1!" * 3, "8 to 26"),
        ("abcdefgh", "at least 3"),
        ("Abcdefgh", "at least 3"),
        ("Abcd 1234x", "1 character(s) are not allowed"),
        ("Abcd#1234x", "1 character(s) are not allowed"),
        ("Abcd1234é\x07", "2 character(s) are not allowed"),
    ],
)
def test_password_policy(password: str, fragment: str) -> None:
    messages = " ".join(p.message for p in check_password(password))
    assert fragment in messages
    assert password not in messages


@pytest.mark.parametrize("password", ["Abcd@1234xyz", "abcd1234!", "ABCD-1234", "aB3{}[]:,./?"])
def test_valid_passwords(password: str) -> None:
    assert check_password(password) == []


def test_windows_password_may_not_contain_the_user_name() -> None:
    assert check_password("Admin@12345", os_type="Windows") != []
    assert check_password("Rotartsinimda1!", os_type="Windows") != []
    assert check_password("Admin@12345", os_type="Linux") == []


def test_user_data_limit_is_32k_before_base64() -> None:
    at_limit = ReinstallRequest(user_data=UserData.from_bytes(b"a" * USER_DATA_LIMIT))
    assert at_limit.is_valid
    encoded = at_limit.body()["os-reinstall"]["metadata"]["user_data"]
    assert len(encoded) > USER_DATA_LIMIT
    over = ReinstallRequest(user_data=UserData.from_bytes(b"a" * (USER_DATA_LIMIT + 1)))
    [problem] = [p for p in over.validate() if p.severity == "error"]
    assert "32,769 bytes" in problem.message


def test_user_data_from_text_bytes_and_file(tmp_path: Path) -> None:
    script = "#!/bin/bash\necho user_test > /home/user.txt"
    path = tmp_path / "init.sh"
    path.write_text(script)
    for ud in (
        UserData.from_text(script),
        UserData.from_bytes(script.encode()),
        UserData.from_file(path),
    ):
        assert ud.encoded == "IyEvYmluL2Jhc2gKZWNobyB1c2VyX3Rlc3QgPiAvaG9tZS91c2VyLnR4dA=="
        assert ud.text == script
    assert UserData.from_base64(UserData.from_text(script).encoded).raw == script.encode()
    with pytest.raises(ValueError, match="base64"):
        UserData.from_base64("not base64!")


def test_byol_only_true() -> None:
    assert ReinstallRequest(adminpass=GOOD_PASSWORD, byol=True).body()["os-reinstall"][
        "metadata"
    ] == {"BYOL": "true"}
    assert (
        "metadata"
        not in ReinstallRequest(adminpass=GOOD_PASSWORD, byol=False).body()["os-reinstall"]
    )
    assert "BYOL" in fields(ReinstallRequest(adminpass=GOOD_PASSWORD, byol="false"))


def test_encryption_needs_a_36_character_cmk_id() -> None:
    cmk = "0" * 36
    body = ReinstallRequest(adminpass=GOOD_PASSWORD, encrypt_system_disk=True, cmk_id=cmk).body()
    assert body["os-reinstall"]["metadata"] == {"__system__encrypted": "1", "__system__cmkid": cmk}
    assert fields(ReinstallRequest(adminpass=GOOD_PASSWORD, encrypt_system_disk=True)) == {
        "__system__cmkid"
    }
    assert fields(ReinstallRequest(adminpass=GOOD_PASSWORD, cmk_id=cmk)) == {"__system__cmkid"}


def test_ankara_keyname_rule_is_a_warning_not_an_error() -> None:
    request = ReinstallRequest(adminpass=GOOD_PASSWORD, mode="withStopServer")
    problems = request.validate(region="tr-central-201")
    assert [p.field for p in problems if p.severity == "warning"] == ["keyname"]
    assert "tr-central-201" in problems[0].message
    assert request.validate(region="tr-west-1") == []


def test_missing_mode_is_a_warning() -> None:
    assert fields(ReinstallRequest(adminpass=GOOD_PASSWORD), "warning") == {"mode"}


def test_blank_strings_count_as_not_given() -> None:
    assert ReinstallRequest(adminpass="", keyname=" ", userid="") == ReinstallRequest()


def test_password_never_in_repr_or_preview() -> None:
    request = ReinstallRequest(adminpass=GOOD_PASSWORD, mode="withStopServer")
    assert GOOD_PASSWORD not in repr(request)
    assert GOOD_PASSWORD not in str(request)
    shown = preview(request)
    assert shown.body_json is not None
    assert GOOD_PASSWORD not in shown.body_json
    assert json.loads(shown.body_json)["os-reinstall"]["adminpass"] == "********"
    assert GOOD_PASSWORD not in repr(shown)
    # ... while the bytes actually sent carry it.
    assert GOOD_PASSWORD.encode() in request.to_json()


def test_secret_refuses_to_leak() -> None:
    secret = Secret("s3cr3t")
    assert "s3cr3t" not in f"{secret} {secret!r} {secret:>20}"
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_preview_shows_user_data_encoded_decoded_and_measured() -> None:
    text = "#cloud-config\npackages: [nginx]\n"
    shown = preview(ReinstallRequest(user_data=UserData.from_text(text), mode="withStopServer"))
    assert shown.user_data_text == text
    assert shown.user_data_encoded == base64.b64encode(text.encode()).decode()
    assert shown.user_data_size == len(text)
    assert shown.user_data_share == pytest.approx(len(text) / USER_DATA_LIMIT)
    assert shown.sendable


def test_preview_of_invalid_request_has_no_body() -> None:
    shown = preview(ReinstallRequest(keyname="k"))
    assert shown.body_json is None
    assert not shown.sendable


def test_binary_user_data_is_previewed_as_binary() -> None:
    shown = preview(ReinstallRequest(user_data=UserData.from_bytes(b"\x1f\x8b\x08\x00\xff")))
    assert shown.user_data_text == "<binary content>"


def test_path_checks_ids() -> None:
    pid = "0123456789abcdef0123456789abcdef"
    sid = "b0a9d2b4-2cae-4b66-a6ba-6af70f3bd7f8"
    assert reinstall_path(pid, sid) == f"/v2/{pid}/cloudservers/{sid}/reinstallos"
    with pytest.raises(ValidationError) as caught:
        reinstall_path("nope", "../etc")
    assert caught.value.fields == ("project_id", "server_id")
