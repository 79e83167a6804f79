"""Fixtures for the simulator tests: simulators, hand-signed httpx clients, the SDK oracle."""

from __future__ import annotations

import importlib
import os
from collections.abc import AsyncIterator, Generator
from datetime import datetime, timedelta, timezone
from types import ModuleType
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from ecs_notebook.auth.signing import format_sdk_date, sign
from ecs_notebook.simulator import ManualClock, Simulator

HEALTHY = "11111111-1111-4111-8111-111111111111"
STOPPED = "22222222-2222-4222-8222-222222222222"
LOCKED = "33333333-3333-4333-8333-333333333333"
NO_DISK = "44444444-4444-4444-8444-444444444444"
NO_CLOUD_INIT = "55555555-5555-4555-8555-555555555555"
WINDOWS = "66666666-6666-4666-8666-666666666666"
UNKNOWN_SERVER = "99999999-9999-4999-8999-999999999999"
OTHER_USER = "0123456789abcdef0123456789abcdef"
GOOD_PASSWORD = "Abcd@1234xyz"
KMS_KEY = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"

FLEET: dict[str, Any] = {
    "servers": [
        {"id": HEALTHY, "name": "web-01", "tags": ["env=prod", "role=web"]},
        {"id": STOPPED, "name": "web-02", "status": "SHUTOFF", "tags": ["env=staging", "role=web"]},
        {"id": LOCKED, "name": "db-01", "locked": True, "flavor": "m7.large.8"},
        {"id": NO_DISK, "name": "db-02", "system_disk": False},
        {
            "id": NO_CLOUD_INIT,
            "name": "legacy-01",
            "image_name": "legacy-app-centos6-private",
            "cloud_init": False,
        },
        {"id": WINDOWS, "name": "win-01", "os_type": "Windows", "private_ip": "10.9.9.9"},
    ],
    "keypairs": [{"name": "KeyPair-other", "userid": OTHER_USER}],
    "kms_keys": [KMS_KEY],
}


def query_pairs(url: httpx.URL) -> list[tuple[str, str]]:
    """Decoded query pairs of ``url`` (``+`` kept, as the simulator reads them)."""
    text = url.query.decode("ascii")
    return [
        (unquote(k), unquote(v)) for k, _, v in (p.partition("=") for p in text.split("&") if p)
    ]


class SignedAuth(httpx.Auth):
    """Sign every request with ``ecs_notebook.auth.signing.sign`` (all headers signed).

    ``skew`` shifts ``X-Sdk-Date``; ``secret_key`` may be wrong on purpose.
    """

    requires_request_body = True

    def __init__(self, access_key: str, secret_key: str, *, skew: timedelta = timedelta()) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.skew = skew

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Sdk-Date"] = format_sdk_date(datetime.now(timezone.utc) + self.skew)
        path = request.url.raw_path.partition(b"?")[0].decode("ascii")
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        parts = sign(
            request.method,
            path,
            query_pairs(request.url),
            headers,
            request.content,
            access_key=self.access_key,
            secret_key=self.secret_key,
        )
        request.headers["Authorization"] = parts.authorization
        yield request


def auth_for(sim: Simulator) -> SignedAuth:
    """A signer with the simulator's own credentials."""
    return SignedAuth(sim.access_key, sim.secret_key.reveal())


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when the test says so."""
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    """A small simulator with one server of each kind; jobs take exactly 10 s."""
    return Simulator(fleet=FLEET, seed=3, job_seconds=10.0, job_jitter=0.0, clock=clock)


@pytest.fixture(params=["in-process", "loopback"])
async def client(
    request: pytest.FixtureRequest, sim: Simulator
) -> AsyncIterator[httpx.AsyncClient]:
    """A signed client of ``sim``, in process and over real HTTP."""
    if request.param == "in-process":
        async with httpx.AsyncClient(
            transport=sim.transport(), base_url=sim.endpoint, auth=auth_for(sim)
        ) as c:
            yield c
    else:
        with sim.serve() as url:
            async with httpx.AsyncClient(base_url=url, auth=auth_for(sim), timeout=10) as c:
                yield c


def reinstall_path(sim: Simulator, server_id: str) -> str:
    """``/v2/{project}/cloudservers/{id}/reinstallos``."""
    return f"/v2/{sim.project_id}/cloudservers/{server_id}/reinstallos"


def body(**option: Any) -> dict[str, Any]:
    """``{"os-reinstall": option}``."""
    return {"os-reinstall": option}


def key_body(sim: Simulator, **extra: Any) -> dict[str, Any]:
    """A valid key-pair body (``mode=withStopServer`` unless ``extra`` says otherwise)."""
    option: dict[str, Any] = {
        "keyname": sim.keypair_name,
        "userid": sim.user_id,
        "mode": "withStopServer",
    }
    option.update(extra)
    return body(**option)


@pytest.fixture(scope="session")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    """The official SDK modules (test oracle only).

    The SDK writes ``~/.huaweicloud/application_id`` on import: HOME points at a temporary
    directory while it is imported, then is restored.
    """
    names = {
        "ecs": "huaweicloudsdkecs.v2",
        "credentials": "huaweicloudsdkcore.auth.credentials",
        "http_config": "huaweicloudsdkcore.http.http_config",
        "exceptions": "huaweicloudsdkcore.exceptions.exceptions",
        "signer": "huaweicloudsdkcore.signer.signer",
        "sdk_request": "huaweicloudsdkcore.sdk_request",
        "http_utils": "huaweicloudsdkcore.utils.http_utils",
    }
    old = os.environ.get("HOME")
    os.environ["HOME"] = str(tmp_path_factory.mktemp("sdk-home"))
    try:
        return {key: importlib.import_module(name) for key, name in names.items()}
    finally:
        if old is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old
