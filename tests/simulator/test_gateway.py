"""Authentication and flow control as the API gateway does them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from ecs_notebook.simulator import ManualClock, Simulator

from .conftest import FLEET, HEALTHY, SignedAuth, auth_for, key_body, reinstall_path


@pytest.fixture(params=["in-process", "loopback"])
async def base(request: pytest.FixtureRequest, sim: Simulator) -> AsyncIterator[dict[str, Any]]:
    """Client keyword arguments (no auth) reaching ``sim`` in process or over HTTP."""
    if request.param == "in-process":
        yield {"transport": sim.transport(), "base_url": sim.endpoint}
    else:
        with sim.serve() as url:
            yield {"base_url": url, "timeout": 10}


def gateway_error(response: httpx.Response) -> tuple[int, str, str]:
    data = response.json()
    assert data["request_id"] == response.headers["X-Request-Id"]
    return response.status_code, data["error_code"], data["error_msg"]


def detail_path(sim: Simulator) -> str:
    return f"/v1/{sim.project_id}/cloudservers/detail"


async def test_unsigned_request_is_refused(base: dict[str, Any], sim: Simulator) -> None:
    async with httpx.AsyncClient(**base) as client:
        status, code, message = gateway_error(await client.get(detail_path(sim)))
    assert (status, code) == (401, "APIGW.0301")
    assert "x-auth-token not found" in message


async def test_bad_signature_then_lockout(
    base: dict[str, Any], sim: Simulator, clock: ManualClock
) -> None:
    bad = SignedAuth(sim.access_key, "wrong-secret-key")
    async with httpx.AsyncClient(**base) as client:
        for _ in range(5):
            status, code, message = gateway_error(await client.get(detail_path(sim), auth=bad))
            assert (status, code) == (401, "APIGW.0301")
            assert message.endswith("verify aksk signature fail")
        locked = await client.post(
            reinstall_path(sim, HEALTHY), json=key_body(sim), auth=auth_for(sim)
        )
        status, code, message = gateway_error(locked)
        assert (status, code) == (401, "APIGW.0301")
        assert "AK access failed to reach the limit,forbidden" in message
        assert sim.state()["servers"][HEALTHY]["reinstalls_accepted"] == 0
        clock.advance(5 * 60 + 1)
        assert (await client.get(detail_path(sim), auth=auth_for(sim))).status_code == 200


async def test_failures_must_be_consecutive(base: dict[str, Any], sim: Simulator) -> None:
    bad = SignedAuth(sim.access_key, "wrong-secret-key")
    async with httpx.AsyncClient(**base) as client:
        for _ in range(4):
            assert (await client.get(detail_path(sim), auth=bad)).status_code == 401
        assert (await client.get(detail_path(sim), auth=auth_for(sim))).status_code == 200
        for _ in range(4):
            assert (await client.get(detail_path(sim), auth=bad)).status_code == 401
        assert (await client.get(detail_path(sim), auth=auth_for(sim))).status_code == 200


@pytest.mark.parametrize("minutes", [16, -16])
async def test_clock_skew_is_refused(base: dict[str, Any], sim: Simulator, minutes: int) -> None:
    skewed = SignedAuth(sim.access_key, sim.secret_key.reveal(), skew=timedelta(minutes=minutes))
    async with httpx.AsyncClient(**base) as client:
        status, code, message = gateway_error(await client.get(detail_path(sim), auth=skewed))
        assert (status, code) == (401, "APIGW.0301") and "15 minutes" in message
        near = SignedAuth(sim.access_key, sim.secret_key.reveal(), skew=timedelta(minutes=14))
        assert (await client.get(detail_path(sim), auth=near)).status_code == 200


async def test_unknown_access_key(base: dict[str, Any], sim: Simulator) -> None:
    async with httpx.AsyncClient(**base) as client:
        response = await client.get(detail_path(sim), auth=SignedAuth("NOSUCHAK0000000000000", "x"))
    assert gateway_error(response)[:2] == (401, "APIGW.0301")


async def test_signature_covers_host_query_and_body(sim: Simulator) -> None:
    class Tamper(httpx.Auth):
        def __init__(self, change: str) -> None:
            self.change = change

        def auth_flow(self, request: httpx.Request) -> Any:
            signed = next(auth_for(sim).auth_flow(request))
            if self.change == "host":
                signed.headers["Host"] = "other.example.com"
            elif self.change == "query":
                signed.url = signed.url.copy_add_param("limit", "2")
            yield signed

    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.endpoint) as client:
        for change in ("host", "query"):
            response = await client.get(detail_path(sim), params={"limit": 1}, auth=Tamper(change))
            assert response.status_code == 401, change
        request = client.build_request("POST", reinstall_path(sim, HEALTHY), json=key_body(sim))
        signed = next(auth_for(sim).auth_flow(request))
        tampered = httpx.Request(
            "POST",
            signed.url,
            headers=signed.headers,
            content=signed.content.replace(b"KeyPair", b"KeyPain"),
        )
        assert (await client.send(tampered)).status_code == 401
    assert "cloudservers" in (sim.gateway.last_signature_failure or "")
    assert sim.state()["jobs"] == {}


async def test_query_order_and_encoding_do_not_matter(sim: Simulator) -> None:
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.endpoint, auth=auth_for(sim)
    ) as client:
        url = f"{detail_path(sim)}?name=web%2001&limit=5&tags=env%3Dprod"
        assert (await client.get(url)).status_code == 200


async def test_token_flow(base: dict[str, Any], sim: Simulator, clock: ManualClock) -> None:
    login = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": sim.iam_user,
                        "password": sim.iam_password.reveal(),
                        "domain": {"name": sim.iam_domain},
                    }
                },
            },
            "scope": {"project": {"name": sim.region}},
        }
    }
    async with httpx.AsyncClient(**base) as client:
        response = await client.post("/v3/auth/tokens", json=login, params={"nocatalog": "true"})
        assert response.status_code == 201
        token = response.headers["X-Subject-Token"]
        data = response.json()["token"]
        assert data["project"]["id"] == sim.project_id and data["expires_at"].endswith("Z")
        assert data["user"]["id"] == sim.user_id and "catalog" not in data
        headers = {"X-Auth-Token": token}
        assert (await client.get(detail_path(sim), headers=headers)).status_code == 200
        projects = (await client.get("/v3/auth/projects", headers=headers)).json()["projects"]
        assert [(p["id"], p["name"]) for p in projects] == [(sim.project_id, sim.region)]
        reinstall = await client.post(
            reinstall_path(sim, HEALTHY), json=key_body(sim), headers=headers
        )
        assert reinstall.status_code == 200

        clock.advance(24 * 3600 + 1)
        status, code, _ = gateway_error(await client.get(detail_path(sim), headers=headers))
        assert (status, code) == (401, "APIGW.0307")

        bogus = await client.get(detail_path(sim), headers={"X-Auth-Token": "MIIbogus"})
        assert gateway_error(bogus)[:2] == (401, "APIGW.0301")

        login["auth"]["identity"]["password"]["user"]["password"] = "wrong"  # type: ignore[index]
        wrong = await client.post("/v3/auth/tokens", json=login)
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == 401
        assert "X-Subject-Token" not in wrong.headers
        bad = await client.post("/v3/auth/tokens", content=b"[]")
        assert bad.status_code == 400


async def test_unscoped_token_cannot_use_a_project(sim: Simulator) -> None:
    token = sim.issue_token(project_scoped=False).reveal()
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.endpoint) as client:
        response = await client.get(detail_path(sim), headers={"X-Auth-Token": token})
        assert response.status_code == 400 and response.json()["error"]["code"] == "Ecs.0023"
        assert (
            await client.get("/v3/auth/projects", headers={"X-Auth-Token": token})
        ).status_code == 200


async def test_short_token_lifetime(clock: ManualClock) -> None:
    sim = Simulator(fleet=FLEET, clock=clock, token_lifetime=60)
    token = sim.issue_token().reveal()
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.endpoint) as client:
        assert (
            await client.get(detail_path(sim), headers={"X-Auth-Token": token})
        ).status_code == 200
        clock.advance(61)
        response = await client.get(detail_path(sim), headers={"X-Auth-Token": token})
        assert response.json()["error_code"] == "APIGW.0307"


async def test_rate_limit(base: dict[str, Any], sim: Simulator, clock: ManualClock) -> None:
    sim.set_rate_limit(2)
    async with httpx.AsyncClient(**base, auth=auth_for(sim)) as client:
        assert (await client.get(detail_path(sim))).status_code == 200
        assert (await client.get(detail_path(sim))).status_code == 200
        throttled = await client.post(reinstall_path(sim, HEALTHY), json=key_body(sim))
        status, code, message = gateway_error(throttled)
        assert (status, code) == (429, "APIGW.0308") and "ratelimit" in message
        assert sim.state()["servers"][HEALTHY]["reinstalls_accepted"] == 0
        state = (await client.get("/_simulator/state")).json()  # never throttled
        assert state["requests"]["POST /v2/{project_id}/cloudservers/{server_id}/reinstallos"] == {
            "429": 1
        }
        clock.advance(1.0)
        assert (
            await client.post(reinstall_path(sim, HEALTHY), json=key_body(sim))
        ).status_code == 200


async def test_unknown_api_is_apigw_0101(base: dict[str, Any], sim: Simulator) -> None:
    async with httpx.AsyncClient(**base, auth=auth_for(sim)) as client:
        for method, path in [
            ("POST", f"/v2.1/{sim.project_id}/cloudservers/{HEALTHY}/reinstallos"),
            ("DELETE", f"/v1/{sim.project_id}/cloudservers/{HEALTHY}"),
            ("GET", "/"),
        ]:
            response = await client.request(method, path)
            assert gateway_error(response)[:2] == (404, "APIGW.0101")


def test_secret_key_never_in_reprs(sim: Simulator) -> None:
    sk = sim.secret_key.reveal()
    for thing in (sim, sim.gateway, sim.iam, sim.model, sim.dispatcher, vars(sim)):
        assert sk not in repr(thing)
    assert sim.iam_password.reveal() not in repr(vars(sim))
    assert sk not in str(sim.state())
