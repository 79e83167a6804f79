"""The simulated IAM: one user, password tokens that expire, and the project list."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Final

from ..secrets import Secret
from .clock import Clock, iso_micro_naive
from .exceptions import TOKEN_EXPIRED, GatewayError, IamError, auth_failed

TOKEN_LIFETIME: Final = 24 * 3600.0
#: ``duration_seconds`` of a temporary AK/SK: 900 to 86400, default 900 (contract 5.2b).
TEMPORARY_DEFAULT: Final = 900
TEMPORARY_RANGE: Final = (900, 86400)
_AK_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class Token:
    """What a token stands for. The token text itself is never kept, only its hash."""

    user_id: str
    project_id: str | None
    issued_at: float
    expires_at: float


@dataclass(frozen=True)
class TemporaryCredential:
    """A temporary AK/SK and the hash of its security token (the token is not kept)."""

    access: str
    secret: Secret
    token_hash: str
    user_id: str
    expires_at: float

    def token_matches(self, token: str) -> bool:
        """Whether ``token`` is this credential's security token."""
        given = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
        return hmac.compare_digest(given, self.token_hash)

    @property
    def expires_text(self) -> str:
        """``expires_at`` as IAM writes it (ISO 8601, microseconds, ``Z``)."""
        return iso_micro_naive(self.expires_at) + "Z"


def _bad_request(message: str) -> IamError:
    return IamError(400, "Bad Request", message)


def _get(obj: object, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


class IamModel:
    """Checks password logins and issues ``X-Subject-Token`` tokens for the one project."""

    def __init__(
        self,
        *,
        user_name: str,
        password: Secret,
        domain_name: str,
        user_id: str,
        project_id: str,
        region: str,
        clock: Clock,
        token_lifetime: float = TOKEN_LIFETIME,
    ) -> None:
        self.user_name = user_name
        self.password = password
        self.domain_name = domain_name
        self.domain_id = hashlib.sha256(("domain:" + domain_name).encode()).hexdigest()[:32]
        self.user_id = user_id
        self.project_id = project_id
        self.region = region
        self.clock = clock
        self.token_lifetime = token_lifetime
        self._tokens: dict[str, Token] = {}
        self._temporary: dict[str, TemporaryCredential] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"IamModel(user={self.user_name!r}, domain={self.domain_name!r})"

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def issue_token(self, *, project_scoped: bool = True) -> tuple[str, Token]:
        """Issue a token directly (tests); returns the token text and what it stands for."""
        now = self.clock()
        token = Token(
            self.user_id,
            self.project_id if project_scoped else None,
            now,
            now + self.token_lifetime,
        )
        text = "MIIsim" + secrets.token_urlsafe(96)
        with self._lock:
            self._tokens[self._key(text)] = token
        return text, token

    def login(self, body: object, *, nocatalog: bool = False) -> tuple[str, dict[str, Any]]:
        """``POST /v3/auth/tokens`` with the password method: ``(token text, body)``."""
        identity = _get(_get(body, "auth"), "identity")
        methods = _get(identity, "methods")
        if not isinstance(methods, list) or "password" not in methods:
            raise _bad_request("auth.identity.methods must include password")
        user = _get(_get(identity, "password"), "user")
        if not isinstance(user, dict) or not isinstance(user.get("password"), str):
            raise _bad_request("auth.identity.password.user with a password is required")
        if not self._known_user(user):
            raise IamError(401, "Unauthorized", "The username or password is wrong.")
        scope = _get(_get(body, "auth"), "scope")
        project = _get(scope, "project")
        scoped = False
        if project is not None:
            if not isinstance(project, dict) or (
                project.get("name", self.region) != self.region
                or project.get("id", self.project_id) != self.project_id
            ):
                raise _bad_request(
                    "The project in the scope does not exist or the user cannot access it."
                )
            scoped = True
        text, token = self.issue_token(project_scoped=scoped)
        return text, self._token_body(token, nocatalog=nocatalog)

    def _known_user(self, user: dict[str, Any]) -> bool:
        domain = user.get("domain")
        if "id" in user:
            who_ok = user["id"] == self.user_id
        else:
            who_ok = (
                user.get("name") == self.user_name
                and isinstance(domain, dict)
                and (domain.get("name") == self.domain_name or domain.get("id") == self.domain_id)
            )
        password_ok = hmac.compare_digest(
            str(user.get("password", "")).encode(), self.password.reveal().encode()
        )
        return bool(who_ok) and password_ok

    def _token_body(self, token: Token, *, nocatalog: bool) -> dict[str, Any]:
        domain = {"id": self.domain_id, "name": self.domain_name}
        body: dict[str, Any] = {
            "methods": ["password"],
            "issued_at": iso_micro_naive(token.issued_at) + "Z",
            "expires_at": iso_micro_naive(token.expires_at) + "Z",
            "user": {
                "id": self.user_id,
                "name": self.user_name,
                "domain": domain,
                "password_expires_at": "",
            },
            "roles": [{"id": "0", "name": "op_fine_grained"}],
        }
        if token.project_id is not None:
            body["project"] = {"id": self.project_id, "name": self.region, "domain": domain}
        else:
            body["domain"] = domain
        if not nocatalog:
            body["catalog"] = []
        return {"token": body}

    def check(self, text: str) -> Token:
        """The token behind ``X-Auth-Token``, or the gateway's 401 (unknown or expired)."""
        with self._lock:
            token = self._tokens.get(self._key(text))
        if token is None:
            raise auth_failed("decrypt token fail")
        if self.clock() >= token.expires_at:
            stamp = iso_micro_naive(token.expires_at) + "Z"
            raise GatewayError(
                401, TOKEN_EXPIRED, f"The token must be updated: token expires, expires_at: {stamp}"
            )
        return token

    def create_temporary(self, body: object) -> dict[str, Any]:
        """``POST /v3.0/OS-CREDENTIAL/securitytokens`` (the caller is already authenticated).

        Body ``{"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds":
        ...}}}}``; answers ``{"credential": {access, secret, securitytoken, expires_at}}``.
        """
        identity = _get(_get(body, "auth"), "identity")
        methods = _get(identity, "methods")
        if not isinstance(methods, list) or "token" not in methods:
            raise _bad_request("auth.identity.methods must include token")
        duration: Any = _get(_get(identity, "token"), "duration_seconds")
        if duration is None:
            duration = TEMPORARY_DEFAULT
        try:
            seconds = int(duration)
        except (TypeError, ValueError):
            seconds = -1
        low, high = TEMPORARY_RANGE
        if isinstance(duration, bool) or not low <= seconds <= high:
            raise _bad_request(f"duration_seconds must be an integer from {low} to {high}")
        access = "".join(secrets.choice(_AK_ALPHABET) for _ in range(20))
        secret = secrets.token_urlsafe(30)
        token = "gQpsim" + secrets.token_urlsafe(120)
        expires = self.clock() + seconds
        credential = TemporaryCredential(
            access, Secret(secret), self._key(token), self.user_id, expires
        )
        with self._lock:
            self._temporary[access] = credential
        return {
            "credential": {
                "access": access,
                "secret": secret,
                "securitytoken": token,
                "expires_at": credential.expires_text,
            }
        }

    def grant_temporary(
        self, access: str, secret: str, securitytoken: str, *, seconds: float = 3600.0
    ) -> TemporaryCredential:
        """Issue a temporary credential with given values directly (tests: canary values)."""
        credential = TemporaryCredential(
            access, Secret(secret), self._key(securitytoken), self.user_id, self.clock() + seconds
        )
        with self._lock:
            self._temporary[access] = credential
        return credential

    def temporary(self, access: str) -> TemporaryCredential | None:
        """The temporary credential of ``access``, if IAM issued one."""
        with self._lock:
            return self._temporary.get(access)

    def projects(self) -> dict[str, Any]:
        """``GET /v3/auth/projects``: the projects the caller can use."""
        return {
            "links": {"self": "/v3/auth/projects", "previous": None, "next": None},
            "projects": [
                {
                    "id": self.project_id,
                    "name": self.region,
                    "domain_id": self.domain_id,
                    "parent_id": self.domain_id,
                    "description": "",
                    "enabled": True,
                    "is_domain": False,
                    "links": {"self": f"/v3/projects/{self.project_id}"},
                }
            ],
        }
