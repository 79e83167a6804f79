"""Where credentials come from: arguments, the official SDK's environment variables, or its
credentials file. Secrets are held as :class:`~ecs_notebook.secrets.Secret` and never printed.
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ..errors import ConfigurationError
from ..secrets import Secret, secret_or_none

ENV_AK: Final = "HUAWEICLOUD_SDK_AK"
ENV_SK: Final = "HUAWEICLOUD_SDK_SK"
ENV_SECURITY_TOKEN: Final = "HUAWEICLOUD_SDK_SECURITY_TOKEN"  # noqa: S105 - a variable name
ENV_PROJECT_ID: Final = "HUAWEICLOUD_SDK_PROJECT_ID"
ENV_IAM_ENDPOINT: Final = "HUAWEICLOUD_SDK_IAM_ENDPOINT"
ENV_CREDENTIALS_FILE: Final = "HUAWEICLOUD_SDK_CREDENTIALS_FILE"
#: Our own variables for IAM password (token) authentication; the SDK has none.
ENV_IAM_USER: Final = "ECS_NOTEBOOK_IAM_USER"
ENV_IAM_PASSWORD: Final = "ECS_NOTEBOOK_IAM_PASSWORD"  # noqa: S105 - a variable name
ENV_IAM_DOMAIN: Final = "ECS_NOTEBOOK_IAM_DOMAIN"

#: What an AK, SK or security token can hold: they travel in (or sign) HTTP headers.
_HEADER_SAFE: Final = re.compile(r"[\x21-\x7e]+")
DEFAULT_CREDENTIALS_FILE: Final = Path("~/.huaweicloud/credentials")
#: Both spellings the SDK uses: the implicit chain's and ``ProfileCredentialProvider``'s.
FILE_SECTIONS: Final = ("basiccredentials", "basic")


@dataclass(frozen=True)
class AkSkCredentials:
    """A permanent or temporary (with ``security_token``) access key pair."""

    access_key: str
    secret_key: Secret = field(repr=False)
    security_token: Secret | None = field(default=None, repr=False)
    project_id: str | None = None
    iam_endpoint: str | None = None
    source: str = "arguments"

    def __post_init__(self) -> None:
        if not isinstance(self.access_key, str) or not self.access_key:
            raise ConfigurationError("the access key (AK) is empty or not text")
        if not _HEADER_SAFE.fullmatch(self.access_key):
            raise ConfigurationError(
                f"the access key (AK, {ENV_AK}) has characters an AK never has "
                "(only printable ASCII, no spaces)"
            )
        sk = secret_or_none(self.secret_key)
        if sk is None:
            raise ConfigurationError("the secret key (SK) is empty")
        token = secret_or_none(self.security_token)
        for value, name in ((sk, ENV_SK), (token, ENV_SECURITY_TOKEN)):
            if value is not None and not _HEADER_SAFE.fullmatch(value.reveal()):
                # Never show the value: not even the offending characters.
                raise ConfigurationError(
                    f"{name} has characters it never has (only printable ASCII, no spaces): "
                    "check for a stray quote, space or line break"
                )
        object.__setattr__(self, "secret_key", sk)
        object.__setattr__(self, "security_token", token)

    @property
    def is_temporary(self) -> bool:
        """True for STS credentials, which carry an ``X-Security-Token``."""
        return self.security_token is not None


@dataclass(frozen=True)
class IamPasswordCredentials:
    """An IAM user's name and password, exchanged for a token (``POST /v3/auth/tokens``)."""

    user: str
    password: Secret = field(repr=False)
    domain: str
    project_id: str | None = None
    iam_endpoint: str | None = None
    source: str = "arguments"

    def __post_init__(self) -> None:
        pw = secret_or_none(self.password)
        if not self.user or pw is None or not self.domain:
            raise ConfigurationError(
                "IAM password authentication needs a user, a password and a domain"
            )
        object.__setattr__(self, "password", pw)


Credentials = AkSkCredentials | IamPasswordCredentials


def from_environment(env: Mapping[str, str] | None = None) -> Credentials | None:
    """Credentials from the SDK's variables (AK/SK first), or our IAM user variables."""
    env = os.environ if env is None else env
    ak, sk = env.get(ENV_AK, ""), env.get(ENV_SK, "")
    project_id = env.get(ENV_PROJECT_ID) or None
    iam = env.get(ENV_IAM_ENDPOINT) or None
    if ak or sk:
        if not (ak and sk):
            missing = ENV_SK if ak else ENV_AK
            raise ConfigurationError(
                f"{missing} is not set (both {ENV_AK} and {ENV_SK} are needed)"
            )
        return AkSkCredentials(
            ak,
            Secret(sk),
            secret_or_none(env.get(ENV_SECURITY_TOKEN)),
            project_id,
            iam,
            "environment",
        )
    user = env.get(ENV_IAM_USER, "")
    if user:
        return IamPasswordCredentials(
            user,
            Secret(env.get(ENV_IAM_PASSWORD, "")),
            env.get(ENV_IAM_DOMAIN, ""),
            project_id,
            iam,
            "environment",
        )
    return None


def from_file(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Credentials | None:
    """Credentials from the SDK's ini file (``[basiccredentials]`` or ``[basic]`` section)."""
    env = os.environ if env is None else env
    location = Path(path or env.get(ENV_CREDENTIALS_FILE) or DEFAULT_CREDENTIALS_FILE).expanduser()
    if not location.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(location, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigurationError(f"the credentials file {location} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the credentials file {location}: {exc.strerror or exc}"
        ) from None
    except configparser.Error as exc:
        raise ConfigurationError(
            f"cannot read the credentials file {location}: {type(exc).__name__}"
        ) from None
    sections = {name.lower(): name for name in parser.sections()}
    for wanted in FILE_SECTIONS:
        if wanted in sections:
            sec = parser[sections[wanted]]
            ak, sk = sec.get("ak", ""), sec.get("sk", "")
            if not (ak and sk):
                raise ConfigurationError(
                    f"the [{sections[wanted]}] section of {location} needs both ak and sk"
                )
            return AkSkCredentials(
                ak,
                Secret(sk),
                secret_or_none(sec.get("security_token")),
                sec.get("project_id") or None,
                sec.get("iam_endpoint") or None,
                f"file {location}",
            )
    return None


def load_credentials(
    explicit: Credentials | None = None, env: Mapping[str, str] | None = None
) -> Credentials:
    """The first credentials found: arguments, then the environment, then the file."""
    found = explicit or from_environment(env) or from_file(env=env)
    if found is None:
        raise ConfigurationError(
            f"no credentials: set {ENV_AK} and {ENV_SK} (and {ENV_PROJECT_ID}), "
            f"or write them to {DEFAULT_CREDENTIALS_FILE} under [basic], "
            f"or set {ENV_IAM_USER}, {ENV_IAM_PASSWORD} and {ENV_IAM_DOMAIN}"
        )
    return found
