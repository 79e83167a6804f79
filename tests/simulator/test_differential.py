"""Differential tests: the client, the simulator and the official SDK judge the same inputs.

Bodies: each generated request is judged by the client's ``ReinstallRequest.validate`` and
by the simulator's contract module (``read_body``) on the bytes the client would send; the
official SDK serialises the same fields and must produce the same body. Signing: the
client's signer, the official SDK's signer and the simulator's gateway must agree on every
generated request (percent-encoded path segments, non-ASCII header values included).

A disagreement fails unless a row of ``INTENDED`` explains it; those rows are the table of
intended differences in ``docs/simulator.md`` (the test checks both hold the same ids, and
that every row is still needed).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_notebook.auth.signing import sign
from ecs_notebook.model import ReinstallRequest, UserData
from ecs_notebook.model.password import SPECIALS, check_password
from ecs_notebook.model.problems import errors
from ecs_notebook.secrets import Secret
from ecs_notebook.simulator import ManualClock, Simulator
from ecs_notebook.simulator.contract import ContractError, read_body
from ecs_notebook.simulator.exceptions import GatewayError
from ecs_notebook.simulator.wire import SimRequest

from .conftest import FLEET, STOPPED, WINDOWS, auth_for, reinstall_path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "simulator.md"
EXAMPLES = 2000
PROFILE = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
LIMIT = 32 * 1024
USER = "7e25b1da389f4697a79df3a0e5bd494e"

# -- the table of intended differences --------------------------------------------------


def _odd_password(f: dict[str, Any]) -> bool:
    p = f["adminpass"]
    return bool(p) and any(not (c.isascii() and c.isalnum()) and c not in SPECIALS for c in p)


def _odd_keyname(f: dict[str, Any]) -> bool:
    k = (f["keyname"] or "").strip()
    return bool(k) and (len(k) > 64 or re.fullmatch(r"[A-Za-z0-9_.-]+", k) is None)


#: id -> (when it applies, who refuses). Every id is a row in docs/simulator.md.
INTENDED: dict[str, tuple[Callable[[dict[str, Any]], bool], str]] = {
    "password-charset": (_odd_password, "client"),
    "keyname-charset": (_odd_keyname, "client"),
    "cmkid-without-encryption": (
        lambda f: bool((f["cmk_id"] or "").strip()) and not f["encrypt"],
        "client",
    ),
    "empty-user-data": (lambda f: f["user_data"] == b"", "client"),
    "byol-not-true": (lambda f: f["byol"] not in (None, True, False, "true"), "client"),
}


def test_the_docs_hold_the_same_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Intended differences", 1)[1].split("\n## ", 1)[0]
    ids = set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, flags=re.MULTILINE))
    assert ids == set(INTENDED)


# -- bodies ---------------------------------------------------------------------------------

PASSWORDS = st.one_of(
    st.none(),
    st.sampled_from(
        ["Abcd@1234xyz", "Abc12345", "short", "alllowercase1", "Administrator1!", "nimdA#1aX"]
    ),
    st.sampled_from(["Pass word1!", "Pässword1!", "Aa1" * 9, "Aa1" * 8 + "A", "", "Aa#12345"]),
    st.text(max_size=28),
    st.text(alphabet="aA1!@$%^-_=+[{}]:,./?#x ", min_size=6, max_size=28),
)
KEYNAMES = st.one_of(
    st.none(),
    st.sampled_from(["KeyPair-demo", "team key", "a/b", "..", "", " ", "k" * 64, "k" * 65]),
    st.text(max_size=10),
)
USER_DATA = st.one_of(
    st.none(),
    st.binary(max_size=64),
    st.sampled_from([b"", b"x" * LIMIT, b"x" * (LIMIT + 1), b"#cloud-config\n"]),
)
FIELDS = st.fixed_dictionaries(
    {
        "adminpass": PASSWORDS,
        "keyname": KEYNAMES,
        "userid": st.sampled_from([None, USER, "NOT-HEX", ""]),
        "mode": st.sampled_from([None, "withStopServer", "stop", "", "WITHSTOPSERVER"]),
        "user_data": USER_DATA,
        "byol": st.sampled_from([None, True, False, "true", "false", "yes"]),
        "encrypt": st.sampled_from([None, True, False]),
        "cmk_id": st.one_of(
            st.none(), st.just("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"), st.text(max_size=40)
        ),
        "os_type": st.sampled_from([None, "Linux", "Windows"]),
    }
)


def client_request(f: dict[str, Any]) -> ReinstallRequest:
    return ReinstallRequest(
        adminpass=Secret(f["adminpass"]) if f["adminpass"] is not None else None,
        keyname=f["keyname"],
        userid=f["userid"],
        mode=f["mode"],
        user_data=UserData(f["user_data"]) if f["user_data"] is not None else None,
        byol=f["byol"],
        encrypt_system_disk=f["encrypt"],
        cmk_id=f["cmk_id"],
        os_type=f["os_type"],
    )


def client_verdict(request: ReinstallRequest) -> str:
    """``accept``, ``policy`` (only the password policy is broken) or ``invalid``."""
    problems = errors(request.validate())
    if not problems:
        return "accept"
    policy = (
        check_password(request.adminpass.reveal(), os_type=request.os_type)
        if request.adminpass is not None
        else []
    )
    return "policy" if all(p in policy for p in problems) else "invalid"


def simulator_verdict(body: dict[str, Any], os_type: str | None) -> str:
    try:
        read_body(body, os_type=os_type)
    except ContractError as error:
        return {"Ecs.0011": "policy", "Ecs.0005": "invalid"}[error.refusal.code]
    return "accept"


def sdk_body(sdk: dict[str, ModuleType], f: dict[str, Any], request: ReinstallRequest) -> Any:
    """What the official SDK sends for the client's request values."""
    ecs = sdk["ecs"]
    sent = request._unchecked_body(mask_secrets=False)["os-reinstall"]
    meta = sent.get("metadata", {})
    metadata = ecs.ReinstallSeverMetadata(
        user_data=meta.get("user_data"),
        byol=meta.get("BYOL"),
        system__encrypted=meta.get("__system__encrypted"),
        system__cmkid=meta.get("__system__cmkid"),
    )
    option = ecs.ReinstallServerWithCloudInitOption(
        adminpass=sent.get("adminpass"),
        keyname=sent.get("keyname"),
        userid=sent.get("userid"),
        mode=sent.get("mode"),
        metadata=metadata if meta else None,
    )
    body = ecs.ReinstallServerWithCloudInitRequestBody(os_reinstall=option)
    return sdk["http_utils"].sanitize_for_serialization(body)


def test_client_simulator_and_sdk_agree_on_bodies(sdk: dict[str, ModuleType]) -> None:
    used: set[str] = set()
    seen = {"agree": 0, "excused": 0}

    @PROFILE
    @given(f=FIELDS)
    def run(f: dict[str, Any]) -> None:
        request = client_request(f)
        client = client_verdict(request)
        sent = request._unchecked_body(mask_secrets=False)
        # The SDK puts the same fields on the wire.
        assert sdk_body(sdk, f, request) == sent
        simulator = simulator_verdict(sent, f["os_type"])
        if client == simulator:
            seen["agree"] += 1
            return
        reasons = [
            rid
            for rid, (applies, refuser) in INTENDED.items()
            if applies(f) and (refuser == "client") == (client != "accept")
        ]
        assert reasons, f"client {client}, simulator {simulator}, for {sent!r:.300}"
        used.update(reasons)
        seen["excused"] += 1

    run()
    assert seen["agree"] + seen["excused"] >= EXAMPLES
    assert seen["agree"] > seen["excused"]
    assert used == set(INTENDED), f"rows never needed: {set(INTENDED) - used}"


def test_a_small_sample_agrees_over_http() -> None:
    """The same judgement through the simulator's HTTP stack (stopped servers: no Ecs.0100)."""
    sim = Simulator(fleet=FLEET, job_seconds=0, job_jitter=0, clock=ManualClock())
    with sim.serve() as url, httpx.Client(base_url=url, auth=auth_for(sim), timeout=10) as client:

        @settings(max_examples=60, deadline=None, derandomize=True, database=None)
        @given(f=FIELDS.filter(lambda f: f["keyname"] is None and not f["encrypt"]))
        def run(f: dict[str, Any]) -> None:
            request = client_request(f)
            sent = request._unchecked_body(mask_secrets=False)
            expected = simulator_verdict(sent, "Linux")
            response = client.post(reinstall_path(sim, STOPPED), json=sent)
            got = {200: "accept"}.get(response.status_code) or {
                "Ecs.0011": "policy",
                "Ecs.0005": "invalid",
            }.get(response.json()["error"]["code"], response.text)
            assert got == expected, (response.text, sent)

        run()
    assert WINDOWS  # the Windows rules are covered in process (os_type is generated)


# -- signing --------------------------------------------------------------------------------

HOST = "ecs.sim-1.simulator.local"
SEGMENT = st.one_of(
    st.sampled_from(["v2", "v2.1", "os-keypairs", "a/b", "a?b", "..", "50%", "é", "a b", "~x"]),
    st.text(max_size=8),
)
HEADER_VALUE = st.one_of(
    st.sampled_from(["plain", "  padded  ", "café", "日本", "a  b", "x=y;z"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=12),
)
SIGNING = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "POST", "DELETE"]),
        "segments": st.lists(SEGMENT, min_size=1, max_size=4),
        "query": st.lists(
            st.tuples(st.text(min_size=1, max_size=6), st.text(max_size=6)), max_size=3
        ),
        "headers": st.dictionaries(
            st.sampled_from(["X-Custom", "X-Trace_Id", "User-Agent", "X-Other"]),
            HEADER_VALUE,
            max_size=3,
        ),
        "body": st.one_of(st.just(b""), st.binary(max_size=40)),
        "content_type": st.sampled_from(["application/json", "text/plain", None]),
    }
)


def _gateway_check(sim: Simulator, request: SimRequest) -> bool:
    try:
        sim.gateway.authenticate(request)
    except GatewayError:
        return False
    return True


def test_client_sdk_and_gateway_agree_on_signatures(sdk: dict[str, ModuleType]) -> None:
    signer_module = sdk["signer"]
    credentials = sdk["credentials"].BasicCredentials("AKSIMTEST1234567890A", "sk-secret", "p")
    sim = Simulator(
        servers=0, access_key="AKSIMTEST1234567890A", secret_key="sk-secret", clock=ManualClock()
    )
    date = sim.gateway.clock()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(date))
    checked = {"n": 0}

    @PROFILE
    @given(g=SIGNING)
    def run(g: dict[str, Any]) -> None:
        # The SDK fills path parameters with quote(value, safe=""); so does the client.
        path = "/" + "/".join(quote(seg, safe="") for seg in g["segments"])
        headers = {"X-Sdk-Date": stamp, **g["headers"]}
        if g["content_type"]:
            headers["Content-Type"] = g["content_type"]
        sdk_request = sdk["sdk_request"].SdkRequest(
            method=g["method"],
            schema="https",
            host=HOST,
            resource_path=path,
            query_params=list(g["query"]),
            header_params=dict(headers),
            body=g["body"],
        )
        signed = signer_module.Signer(credentials).sign(sdk_request)
        wire_headers = dict(signed.header_params)  # values as the SDK puts them on the wire
        raw_query = signed.uri.partition("?")[2]

        # The client's signer, on the same headers (Host and, if added, the content marker).
        ours = {k: v for k, v in headers.items()}
        ours["Host"] = HOST
        if "X-Sdk-Content-Sha256" in wire_headers:
            ours["X-Sdk-Content-Sha256"] = "UNSIGNED-PAYLOAD"
        client = sign(
            g["method"],
            path,
            list(g["query"]),
            ours,
            g["body"],
            access_key="AKSIMTEST1234567890A",
            secret_key="sk-secret",
        )
        assert client.authorization == wire_headers["Authorization"], client.canonical_request

        # The simulator's gateway, on the request as it arrives.
        request = SimRequest(
            method=g["method"],
            path=path,
            query=raw_query,
            headers=tuple(wire_headers.items()),
            body=g["body"],
        )
        assert _gateway_check(sim, request), sim.gateway.last_signature_failure
        tampered = wire_headers["Authorization"][:-1] + (
            "0" if wire_headers["Authorization"][-1] != "0" else "1"
        )
        bad = SimRequest(
            g["method"],
            path,
            raw_query,
            tuple({**wire_headers, "Authorization": tampered}.items()),
            g["body"],
        )
        sim.gateway._failures.clear()  # five failures would lock the AK: not under test here
        assert not _gateway_check(sim, bad)
        sim.gateway._failures.clear()
        checked["n"] += 1

    run()
    assert checked["n"] >= EXAMPLES


@pytest.mark.filterwarnings("ignore::DeprecationWarning:huaweicloudsdkecs.*")
@pytest.mark.parametrize("name", ["a/b", "a?b", "team key", "..x", "ключ"])
def test_sdk_signed_keypair_paths_reach_the_simulator(
    sdk: dict[str, ModuleType], name: str
) -> None:
    """Over HTTP: the SDK fetches a key pair whose name needs percent-encoding."""
    from ecs_notebook.simulator.resources import KeyPair

    from .test_sdk import make_client

    sim = Simulator(fleet=FLEET, clock=ManualClock())
    sim.model.add_keypair(KeyPair(name, sim.user_id, sim.clock()))
    with sim.serve() as url:
        client = make_client(sdk, sim, url)
        request = sdk["ecs"].NovaShowKeypairRequest(keypair_name=name)
        assert client.nova_show_keypair(request).keypair.name == name


def test_base64_of_user_data_wrapped_at_76_columns_is_accepted() -> None:
    wrapped = base64.encodebytes(b"#cloud-config\n" + b"x" * 200).decode()
    assert "\n" in wrapped.strip()
    assert read_body({"os-reinstall": {"metadata": {"user_data": wrapped}}}).user_data


def test_the_contract_module_names_the_sdks_fields(sdk: dict[str, ModuleType]) -> None:
    """Where the SDK's models speak (field names on the wire), they agree with the contract."""
    from ecs_notebook.simulator.contract import FIELDS, METADATA, OPTION

    ecs = sdk["ecs"]
    option = set(ecs.ReinstallServerWithCloudInitOption.attribute_map.values())
    metadata = set(ecs.ReinstallSeverMetadata.attribute_map.values())
    assert {f.name for f in FIELDS if f.parent == OPTION} == option - {"metadata"}
    assert {f.name for f in FIELDS if f.parent == METADATA} == metadata
    types = {
        **ecs.ReinstallServerWithCloudInitOption.openapi_types,
        **ecs.ReinstallSeverMetadata.openapi_types,
    }
    by_wire = {
        **ecs.ReinstallServerWithCloudInitOption.attribute_map,
        **ecs.ReinstallSeverMetadata.attribute_map,
    }
    sdk_types = {wire: types[attr] for attr, wire in by_wire.items()}
    assert {f.name: f.json_type for f in FIELDS} == {
        name: {"str": "string"}[kind] for name, kind in sdk_types.items() if name != "metadata"
    }
