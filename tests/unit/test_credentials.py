"""Credentials from arguments, the SDK's variables and its file; regions and endpoints."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ecs_notebook.auth import (
    AkSkCredentials,
    IamPasswordCredentials,
    from_environment,
    from_file,
    load_credentials,
)
from ecs_notebook.errors import ConfigurationError
from ecs_notebook.regions import resolve_endpoints
from ecs_notebook.secrets import Secret

SK = "exampleSecretKeyDoNotUse0123456789abcdef"


def test_environment_variables_of_the_sdk() -> None:
    creds = from_environment(
        {
            "HUAWEICLOUD_SDK_AK": "AK1",
            "HUAWEICLOUD_SDK_SK": SK,
            "HUAWEICLOUD_SDK_SECURITY_TOKEN": "tok",
            "HUAWEICLOUD_SDK_PROJECT_ID": "0" * 32,
            "HUAWEICLOUD_SDK_IAM_ENDPOINT": "https://iam.example.com",
        }
    )
    assert isinstance(creds, AkSkCredentials)
    assert (creds.access_key, creds.project_id, creds.iam_endpoint) == (
        "AK1",
        "0" * 32,
        "https://iam.example.com",
    )
    assert creds.secret_key.reveal() == SK
    assert creds.is_temporary
    assert SK not in repr(creds) and "tok" not in repr(creds)


def test_half_an_access_key_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="HUAWEICLOUD_SDK_SK"):
        from_environment({"HUAWEICLOUD_SDK_AK": "AK1"})


def test_iam_user_variables() -> None:
    creds = from_environment(
        {
            "ECS_NOTEBOOK_IAM_USER": "ops",
            "ECS_NOTEBOOK_IAM_PASSWORD": "pw-123",
            "ECS_NOTEBOOK_IAM_DOMAIN": "acme",
        }
    )
    assert isinstance(creds, IamPasswordCredentials)
    assert "pw-123" not in repr(creds)


@pytest.mark.parametrize("section", ["basic", "basiccredentials", "Basic"])
def test_credentials_file_both_section_spellings(tmp_path: Path, section: str) -> None:
    path = tmp_path / "credentials"
    path.write_text(f"[{section}]\nak = AK2\nsk = {SK}\nproject_id = {'1' * 32}\n")
    creds = from_file(path, env={})
    assert isinstance(creds, AkSkCredentials)
    assert (creds.access_key, creds.project_id) == ("AK2", "1" * 32)


def test_credentials_file_from_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "c.ini"
    path.write_text(f"[basic]\nak = AK3\nsk = {SK}\n")
    creds = load_credentials(env={"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(path)})
    assert isinstance(creds, AkSkCredentials) and creds.access_key == "AK3"


def test_precedence_arguments_then_environment_then_file(tmp_path: Path) -> None:
    path = tmp_path / "c.ini"
    path.write_text(f"[basic]\nak = FILE\nsk = {SK}\n")
    env = {"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(path)}
    assert load_credentials(env=env).access_key == "FILE"  # type: ignore[union-attr]
    env |= {"HUAWEICLOUD_SDK_AK": "ENV", "HUAWEICLOUD_SDK_SK": SK}
    assert load_credentials(env=env).access_key == "ENV"  # type: ignore[union-attr]
    explicit = AkSkCredentials("ARG", Secret(SK))
    assert load_credentials(explicit, env=env) is explicit


def test_no_credentials_says_how_to_set_them() -> None:
    with pytest.raises(ConfigurationError, match="HUAWEICLOUD_SDK_AK"):
        load_credentials(env={"HUAWEICLOUD_SDK_CREDENTIALS_FILE": "/nonexistent"})


def test_secret_not_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    creds = AkSkCredentials("AK", Secret(SK))
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("x").info("creds %s %r", creds, creds.secret_key)
    assert SK not in caplog.text


def test_region_table_and_overrides() -> None:
    eps = resolve_endpoints("tr-west-1", env={})
    assert eps.ecs == "https://ecs.tr-west-1.myhuaweicloud.com"
    assert eps.iam == "https://iam.tr-west-1.myhuaweicloud.com"
    env = {
        "HUAWEICLOUD_SDK_REGION_ECS_TR_WEST_1": "https://ecs.custom.example.com,https://b.example.com"
    }
    assert resolve_endpoints("tr-west-1", env=env).ecs == "https://ecs.custom.example.com"
    assert (
        resolve_endpoints("tr-west-1", endpoint="https://x.example.com", env=env).ecs
        == "https://x.example.com"
    )


def test_ankara_has_no_known_endpoint_and_says_how_to_set_one() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_endpoints("tr-central-201", env={})
    message = str(caught.value)
    assert "TR-Ankara-PUR" in message
    assert "HUAWEICLOUD_SDK_REGION_ECS_TR_CENTRAL_201" in message
    assert "--endpoint" in message
    env = {"HUAWEICLOUD_SDK_REGION_ECS_TR_CENTRAL_201": "https://ecs.tr-central-201.example.com"}
    assert resolve_endpoints("tr-central-201", env=env).iam is None


@pytest.mark.parametrize("url", ["http://ecs.example.com", "ftp://x", "http://10.0.0.1:80"])
def test_plain_http_only_on_loopback(url: str) -> None:
    with pytest.raises(ConfigurationError):
        resolve_endpoints("tr-west-1", endpoint=url, env={})


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:8765"]
)
def test_loopback_http_is_allowed(url: str) -> None:
    assert resolve_endpoints(None, endpoint=url, env={}).ecs == url
