"""The :class:`Simulator`: one simulated ECS region, usable in process or over HTTP."""

from __future__ import annotations

import hashlib
import secrets
import string
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from os import PathLike
from typing import Any, Final

import httpx

from ..model.ids import is_project_id
from ..secrets import Secret
from .asgi import AsgiApp, serve_app
from .clock import Clock
from .dispatch import Dispatcher
from .faults import FaultInjector, FaultSpec
from .fleet import Fleet, generate, load
from .gateway import Gateway
from .iam import TOKEN_LIFETIME, IamModel
from .models import CLOUD_JOB_JITTER, CLOUD_JOB_SECONDS, EcsModel
from .resources import KeyPair
from .responses import Responses
from .transport import SimulatorTransport, SyncSimulatorTransport

DEFAULT_KEYPAIR: Final = "KeyPair-demo"
DEFAULT_IAM_USER: Final = "sim-user"
DEFAULT_IAM_DOMAIN: Final = "sim-account"
_AK_ALPHABET: Final = string.ascii_uppercase + string.digits
_SK_ALPHABET: Final = string.ascii_letters + string.digits


def _made_up(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _secret(value: str | Secret) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


def _hex_id(kind: str, seed: int) -> str:
    return hashlib.sha256(f"ecs-simulator:{kind}:{seed}".encode()).hexdigest()[:32]


class Simulator:
    """A strict, in-memory implementation of the ECS reinstall contract.

    Without ``fleet``, ``servers`` servers are generated from ``seed``. ``fleet`` is a dict
    or a JSON file path (see :mod:`.fleet`). Jobs last ``job_seconds`` ± ``job_jitter``
    (a fraction): by default minutes, as in the cloud; tests and runbooks pass less.
    ``lenient_mode`` (default: the fleet's ``lenient_mode``, else false) models a region that
    reinstalls a running server sent without ``mode``; by default that is ``Ecs.0100``.
    ``rate_limit`` is requests per second per AK/token user. ``faults`` is a
    :class:`FaultSpec` or its text form. Credentials not given are made up; the project
    and user ids derive from ``seed``. ``clock`` (POSIX seconds) drives all state.
    """

    def __init__(
        self,
        servers: int = 20,
        seed: int = 0,
        job_seconds: float = CLOUD_JOB_SECONDS,
        job_jitter: float = CLOUD_JOB_JITTER,
        rate_limit: float | None = None,
        faults: FaultSpec | str | None = None,
        latency_ms: float = 0.0,
        latency_jitter_ms: float = 0.0,
        fleet: Mapping[str, Any] | str | PathLike[str] | None = None,
        byol_supported: bool | None = None,
        clock: Clock | None = None,
        access_key: str | None = None,
        secret_key: str | Secret | None = None,
        project_id: str | None = None,
        region: str = "sim-1",
        *,
        user_id: str | None = None,
        iam_user: str = DEFAULT_IAM_USER,
        iam_password: str | Secret | None = None,
        iam_domain: str = DEFAULT_IAM_DOMAIN,
        token_lifetime: float = TOKEN_LIFETIME,
        lenient_mode: bool | None = None,
    ) -> None:
        self.clock: Clock = clock or time.time
        self.region = region
        self.access_key = access_key or _made_up(_AK_ALPHABET, 20)
        self.secret_key = _secret(secret_key) if secret_key else Secret(_made_up(_SK_ALPHABET, 40))
        self.project_id = project_id or _hex_id("project", seed)
        if not is_project_id(self.project_id):
            raise ValueError("project_id must be 32 hexadecimal characters")
        self.user_id = user_id or _hex_id("user", seed)
        self.iam_user = iam_user
        self.iam_password = (
            _secret(iam_password) if iam_password else Secret(_made_up(_SK_ALPHABET, 16) + "@1a")
        )
        self.iam_domain = iam_domain
        self.keypair_name = DEFAULT_KEYPAIR
        self.endpoint = f"https://ecs.{region}.simulator.local"
        now = self.clock()
        seeded: Fleet = (
            load(fleet, region=region, now=now)
            if fleet is not None
            else generate(servers, seed, region=region, now=now)
        )
        if byol_supported is None:
            byol_supported = seeded.byol_supported if seeded.byol_supported is not None else True
        self.model = EcsModel(
            project_id=self.project_id,
            user_id=self.user_id,
            region=region,
            clock=self.clock,
            job_seconds=job_seconds,
            job_jitter=job_jitter,
            byol_supported=byol_supported,
            lenient_mode=bool(seeded.lenient_mode if lenient_mode is None else lenient_mode),
            kms_keys=seeded.kms_keys,
            seed=seed,
        )
        for server in seeded.servers:
            self.model.add_server(server)
        created = now - 30 * 86400.0
        self.model.add_keypair(KeyPair(DEFAULT_KEYPAIR, self.user_id, created))
        for name, owner in seeded.keypairs:
            self.model.add_keypair(KeyPair(name, owner or self.user_id, created))
        self.iam = IamModel(
            user_name=iam_user,
            password=self.iam_password,
            domain_name=iam_domain,
            user_id=self.user_id,
            project_id=self.project_id,
            region=region,
            clock=self.clock,
            token_lifetime=token_lifetime,
        )
        self.gateway = Gateway(
            access_key=self.access_key,
            secret_key=self.secret_key,
            user_id=self.user_id,
            iam=self.iam,
            clock=self.clock,
            rate_limit=rate_limit,
        )
        spec = FaultSpec.parse(faults) if isinstance(faults, str) else faults
        self.dispatcher = Dispatcher(
            responses=Responses(self.model, self.iam),
            gateway=self.gateway,
            faults=FaultInjector(spec, seed),
            latency_ms=latency_ms,
            latency_jitter_ms=latency_jitter_ms,
            seed=seed,
        )
        self.app = AsgiApp(self.dispatcher)

    def __repr__(self) -> str:
        return (
            f"Simulator(region={self.region!r}, project_id={self.project_id!r}, "
            f"access_key={self.access_key!r}, secret_key={self.secret_key!r}, "
            f"servers={len(self.model.servers)})"
        )

    # -- facts ---------------------------------------------------------------------------

    def server_ids(self) -> list[str]:
        """Every server id, in listing order."""
        with self.model.lock:
            return list(self.model.servers)

    def state(self) -> dict[str, Any]:
        """Ground truth, the same JSON as ``GET /_simulator/state``."""
        return self.dispatcher.state()

    def issue_token(self, *, project_scoped: bool = True) -> Secret:
        """An IAM token for the simulator's user, as ``POST /v3/auth/tokens`` would give."""
        text, _ = self.iam.issue_token(project_scoped=project_scoped)
        return Secret(text)

    # -- knobs ---------------------------------------------------------------------------

    def set_faults(self, faults: FaultSpec | str | None) -> None:
        """Replace the fault spec (``None`` or ``""`` for none)."""
        spec = FaultSpec.parse(faults) if isinstance(faults, str) else faults
        self.dispatcher.faults.spec = spec or FaultSpec()

    def set_rate_limit(self, rate_limit: float | None) -> None:
        """Requests per second per AK/token user (``None``: unlimited)."""
        if rate_limit is not None and rate_limit <= 0:
            raise ValueError("rate_limit must be positive or None")
        self.gateway.rate_limit = rate_limit

    def set_latency(self, latency_ms: float, jitter_ms: float = 0.0) -> None:
        """Delay every cloud answer by ``latency_ms`` plus up to ``jitter_ms``."""
        self.dispatcher.latency_ms = latency_ms
        self.dispatcher.latency_jitter_ms = jitter_ms

    # -- front ends ----------------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        """An in-process async httpx transport (use with ``base_url=sim.endpoint``)."""
        return SimulatorTransport(self.dispatcher)

    def sync_transport(self) -> httpx.BaseTransport:
        """An in-process blocking httpx transport."""
        return SyncSimulatorTransport(self.dispatcher)

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve over real HTTP (uvicorn in a thread); yields the base URL."""
        with serve_app(self.app, host, port) as url:
            yield url
