"""Property tests: the simulator accepts exactly the bodies the request model accepts."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_notebook.model import ReinstallRequest, UserData
from ecs_notebook.model.problems import errors
from ecs_notebook.simulator import Simulator

from .conftest import (
    FLEET,
    GOOD_PASSWORD,
    HEALTHY,
    OTHER_USER,
    STOPPED,
    WINDOWS,
    auth_for,
    reinstall_path,
)

LIMIT = 32 * 1024
_b64 = st.binary(max_size=48).map(lambda b: base64.b64encode(b).decode())
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "adminpass": st.one_of(
        st.just(GOOD_PASSWORD),
        st.sampled_from(
            ["Abc12345", "short", "alllowercase1", "Administrator1!", "Pass word1!", "Aa1" * 9, ""]
        ),
        st.text(max_size=28),
    ),
    "keyname": st.one_of(
        st.sampled_from(
            ["KeyPair-demo", "KeyPair-other", "KeyPair-nope", "bad name!", "", " ", "k" * 65]
        ),
        st.text(max_size=8),
    ),
    "userid": st.sampled_from(["USER", OTHER_USER, "not-hex", ""]),
    "mode": st.sampled_from(["withStopServer", "stop", ""]),
}
METADATA: dict[str, st.SearchStrategy[str]] = {
    "user_data": st.one_of(
        _b64,
        st.just(base64.b64encode(b"x" * LIMIT).decode()),
        st.just(base64.b64encode(b"x" * (LIMIT + 1)).decode()),
        st.sampled_from(["not base64!", "", "YQ", "YQ=="]),
    ),
    "BYOL": st.sampled_from(["true", "false", "TRUE", ""]),
    "__system__encrypted": st.sampled_from(["0", "1", "2", ""]),
    "__system__cmkid": st.text(alphabet="abc-0123", min_size=34, max_size=38),
}


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    option = {k: draw(v) for k, v in FIELDS.items() if draw(st.booleans())}
    metadata = {k: draw(v) for k, v in METADATA.items() if draw(st.booleans())}
    if metadata:
        option["metadata"] = metadata
    return {"os-reinstall": option}


VALID_PASSWORDS = st.text(alphabet="abcXYZ019!@$%^-_=+[{}]:,./?", min_size=8, max_size=26)


@st.composite
def mostly_valid(draw: st.DrawFn) -> dict[str, Any]:
    """A valid body of one of the three kinds, sometimes with one field spoiled."""
    kind = draw(st.sampled_from(["password", "key", "user_data"]))
    option: dict[str, Any] = {}
    metadata: dict[str, str] = {}
    if kind == "password":
        option["adminpass"] = draw(st.one_of(st.just(GOOD_PASSWORD), VALID_PASSWORDS))
    elif kind == "key":
        option["keyname"], option["userid"] = draw(
            st.sampled_from(
                [
                    ("KeyPair-demo", "USER"),
                    ("KeyPair-other", OTHER_USER),
                    ("KeyPair-demo", OTHER_USER),
                ]
            )
        )
    else:
        metadata["user_data"] = draw(_b64.filter(bool))
    if draw(st.booleans()):
        option["mode"] = "withStopServer"
    if draw(st.booleans()):
        metadata["BYOL"] = "true"
    if draw(st.booleans()):
        metadata["__system__encrypted"] = "1"
        metadata["__system__cmkid"] = draw(
            st.text(alphabet="abcdef0123456789-", min_size=36, max_size=36)
        )
    if metadata:
        option["metadata"] = metadata
    if draw(st.booleans()):
        field = draw(st.sampled_from(sorted(FIELDS)))
        option[field] = draw(FIELDS[field])
    return {"os-reinstall": option}


def expected(sim: Simulator, body: dict[str, Any], os_type: str) -> bool:
    """Whether the package's own model (plus key pair ownership) accepts ``body``."""
    option = body["os-reinstall"]
    meta = option.get("metadata", {})
    try:
        user_data = UserData.from_base64(meta["user_data"]) if "user_data" in meta else None
    except ValueError:
        return False
    encrypted = meta.get("__system__encrypted")
    if encrypted not in (None, "0", "1"):
        return False
    request = ReinstallRequest(
        adminpass=option.get("adminpass"),
        keyname=option.get("keyname"),
        userid=option.get("userid"),
        mode=option.get("mode"),
        user_data=user_data,
        byol=meta.get("BYOL"),
        encrypt_system_disk=None if encrypted is None else encrypted == "1",
        cmk_id=meta.get("__system__cmkid"),
        os_type=os_type,
    )
    if errors(request.validate(region=sim.region)):
        return False
    if request.keyname is None:
        return True
    owner = sim.model.keypairs.get(request.keyname)
    return owner is not None and owner.user_id == request.userid


def resolve(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    option = body["os-reinstall"]
    if option.get("userid") == "USER":
        option["userid"] = sim.user_id
    return body


def check(client: httpx.Client, sim: Simulator, server_id: str, body: dict[str, Any]) -> None:
    body = resolve(sim, body)
    response = client.post(reinstall_path(sim, server_id), json=body)
    should = expected(sim, body, sim.model.servers[server_id].os_type)
    assert (response.status_code == 200) is should, (response.text, json.dumps(body)[:300])
    if not should:
        assert response.status_code == 400
        assert response.json()["error"]["code"] in {"Ecs.0005", "Ecs.0011", "Ecs.0314"}


SERVERS = st.sampled_from([HEALTHY, STOPPED, WINDOWS])


def fresh() -> Simulator:
    # job_seconds=0: every job ends at once, so each example finds its server idle.
    return Simulator(fleet=FLEET, job_seconds=0, job_jitter=0)


def test_accepts_exactly_what_the_model_accepts() -> None:
    sim = fresh()
    with httpx.Client(
        transport=sim.sync_transport(), base_url=sim.endpoint, auth=auth_for(sim)
    ) as client:

        @settings(max_examples=400, deadline=None)
        @given(server_id=SERVERS, body=st.one_of(bodies(), mostly_valid()))
        def run(server_id: str, body: dict[str, Any]) -> None:
            check(client, sim, server_id, body)

        run()


def test_same_over_loopback_http() -> None:
    sim = fresh()
    with sim.serve() as url, httpx.Client(base_url=url, auth=auth_for(sim), timeout=10) as client:

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(server_id=SERVERS, body=st.one_of(bodies(), mostly_valid()))
        def run(server_id: str, body: dict[str, Any]) -> None:
            check(client, sim, server_id, body)

        run()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
KEYS = st.sampled_from([*FIELDS, "metadata", "junk"])
META_KEYS = st.sampled_from([*METADATA, "junk"])
SHAPED = st.fixed_dictionaries(
    {
        "os-reinstall": st.dictionaries(
            KEYS,
            JSON | st.dictionaries(META_KEYS, JSON | st.text(max_size=8), max_size=4),
            max_size=5,
        )
    }
)


def test_arbitrary_json_never_breaks_it() -> None:
    sim = fresh()
    with httpx.Client(
        transport=sim.sync_transport(), base_url=sim.endpoint, auth=auth_for(sim)
    ) as client:

        @settings(max_examples=400, deadline=None)
        @given(payload=st.one_of(JSON, SHAPED, st.binary(max_size=40)), server_id=SERVERS)
        def run(payload: Any, server_id: str) -> None:
            content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            response = client.post(reinstall_path(sim, server_id), content=content)
            assert response.status_code in (200, 400), response.text
            assert "error" in response.json() or "job_id" in response.json()

        run()
