"""Each behaviour of issue 11, over real loopback HTTP, driven by the official SDK where it can.

The manual clock drives every job and expiry: nothing here waits on wall-clock time.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Generator, Iterator
from datetime import datetime, timezone
from types import ModuleType
from typing import Any

import httpx
import pytest

from ecs_notebook.auth import AkSkAuth, AkSkCredentials
from ecs_notebook.auth.signing import format_sdk_date, sign
from ecs_notebook.client import EcsClient, RetryPolicy
from ecs_notebook.errors import ApiError, ThrottledError
from ecs_notebook.model import ReinstallRequest, ValidationError
from ecs_notebook.secrets import Secret
from ecs_notebook.simulator import ManualClock, Simulator
from ecs_notebook.simulator.resources import KeyPair

from .conftest import (
    FLEET,
    GOOD_PASSWORD,
    HEALTHY,
    KMS_KEY,
    STOPPED,
    WINDOWS,
    auth_for,
    query_pairs,
    reinstall_path,
)
from .test_sdk import make_client, reinstall

pytestmark = [
    pytest.mark.sdk,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:huaweicloudsdkecs.*"),
]

ERROR_SERVER = "77777777-7777-4777-8777-777777777777"
SHELVED = "88888888-8888-4888-8888-888888888888"
FAILING = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
UNHEALTHY = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
WITNESS_FLEET: dict[str, Any] = {
    **FLEET,
    "servers": [
        *FLEET["servers"],
        {"id": ERROR_SERVER, "name": "broken-01", "status": "ERROR"},
        {"id": SHELVED, "name": "shelved-01", "status": "SHELVED_OFFLOADED"},
        {"id": FAILING, "name": "canary-01", "status": "SHUTOFF", "reinstall_fails": True},
        {"id": UNHEALTHY, "name": "canary-02", "unhealthy_after_reinstall": True},
    ],
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def served(sdk: dict[str, ModuleType], clock: ManualClock) -> Iterator[tuple[Simulator, str, Any]]:
    sim = Simulator(fleet=WITNESS_FLEET, seed=5, job_seconds=10, job_jitter=0, clock=clock)
    with sim.serve() as url:
        yield sim, url, make_client(sdk, sim, url)


def truth(sim: Simulator, server_id: str) -> dict[str, Any]:
    result: dict[str, Any] = sim.state()["servers"][server_id]
    return result


def our_client(sim: Simulator, url: str, **options: Any) -> EcsClient:
    creds = AkSkCredentials(sim.access_key, sim.secret_key, project_id=sim.project_id)
    options.setdefault("retry", RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0))
    return EcsClient(endpoint=url, auth=AkSkAuth(creds), project_id=sim.project_id, **options)


# -- mode --------------------------------------------------------------------------------------


def test_running_server_without_mode_is_refused_with_the_sdk(
    sdk: dict[str, ModuleType], served: tuple[Simulator, str, Any]
) -> None:
    sim, _, client = served
    with pytest.raises(sdk["exceptions"].ClientRequestException) as caught:
        reinstall(sdk, client, HEALTHY, adminpass=GOOD_PASSWORD)
    assert (caught.value.status_code, caught.value.error_code) == (400, "Ecs.0100")
    assert reinstall(sdk, client, HEALTHY, adminpass=GOOD_PASSWORD, mode="withStopServer").job_id
    assert truth(sim, HEALTHY)["reinstalls_accepted"] == 1


def test_lenient_region_switch_from_the_cli_flag(sdk: dict[str, ModuleType]) -> None:
    import argparse

    from ecs_notebook.simulator import cli

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--lenient-mode", "--servers", "3", "--job-seconds", "10"])
    sim = cli._build(args, {})
    assert sim.model.lenient_mode
    server_id = next(s for s, v in sim.model.servers.items() if v.status == "ACTIVE")
    with sim.serve() as url:
        client = make_client(sdk, sim, url)
        assert reinstall(sdk, client, server_id, adminpass=GOOD_PASSWORD).job_id


# -- throttling and late failures --------------------------------------------------------


def test_sdk_sees_common_0024_as_202_and_common_1503_as_429(
    sdk: dict[str, ModuleType], served: tuple[Simulator, str, Any]
) -> None:
    sim, _, client = served
    sim.set_faults("Common.0024=1.0")
    answer = reinstall(sdk, client, STOPPED, adminpass=GOOD_PASSWORD)
    # The SDK deserialises a 202 as a success: there is no job id to find.
    assert answer.status_code == 202 and answer.job_id is None
    sim.set_faults("Common.1503=1.0")
    with pytest.raises(sdk["exceptions"].ClientRequestException) as caught:
        reinstall(sdk, client, STOPPED, adminpass=GOOD_PASSWORD)
    assert (caught.value.status_code, caught.value.error_code) == (429, "Common.1503")
    assert truth(sim, STOPPED)["reinstalls_accepted"] == 0


@pytest.mark.parametrize("kind", ["Common.0024", "Common.1503"])
async def test_the_client_never_takes_throttling_for_an_acceptance(
    served: tuple[Simulator, str, Any], kind: str
) -> None:
    sim, url, _ = served
    sim.set_faults(f"{kind}=1.0")
    async with our_client(sim, url) as client:
        with pytest.raises(ThrottledError) as caught:
            await client.reinstall(STOPPED, ReinstallRequest(adminpass=Secret(GOOD_PASSWORD)))
        assert caught.value.code == kind
        assert truth(sim, STOPPED)["reinstalls_accepted"] == 0
        # Half the answers throttled: retried until accepted, and accepted exactly once.
        sim.set_faults(f"{kind}=0.5")
        async with our_client(sim, url, retry=RetryPolicy(attempts=40, base_delay=0.0)) as more:
            job_id = await more.reinstall(
                STOPPED, ReinstallRequest(adminpass=Secret(GOOD_PASSWORD))
            )
    assert truth(sim, STOPPED)["reinstalls_accepted"] == 1
    assert truth(sim, STOPPED)["jobs"] == [job_id]
    assert sim.state()["faults"] == f"{kind}=0.5"


@pytest.mark.parametrize(
    ("kind", "status", "code", "sdk_code"),
    [("late500", 500, "Common.0001", "Common.0001"), ("late504", 504, "APIGW.0201", "APIGW.0201")],
)
def test_late_5xx_is_processed_first(
    sdk: dict[str, ModuleType],
    served: tuple[Simulator, str, Any],
    kind: str,
    status: int,
    code: str,
    sdk_code: str,
) -> None:
    sim, _, client = served
    sim.set_faults(f"{kind}=1.0")
    with pytest.raises(sdk["exceptions"].ServerResponseException) as caught:
        reinstall(sdk, client, STOPPED, adminpass=GOOD_PASSWORD)
    assert (caught.value.status_code, caught.value.error_code) == (status, sdk_code)
    assert truth(sim, STOPPED)["reinstalls_accepted"] == 1
    counts = sim.state()["requests"]["POST /v2/{project_id}/cloudservers/{server_id}/reinstallos"]
    assert counts == {str(status): 1}


async def test_the_client_never_sends_a_post_twice_after_a_late_500(
    served: tuple[Simulator, str, Any],
) -> None:
    sim, url, _ = served
    sim.set_faults("late500=1.0")
    async with our_client(sim, url, retry=RetryPolicy(attempts=5, base_delay=0.0)) as client:
        with pytest.raises(ApiError) as caught:
            await client.reinstall(STOPPED, ReinstallRequest(adminpass=Secret(GOOD_PASSWORD)))
    assert (caught.value.status_code, caught.value.code) == (500, "Common.0001")
    assert truth(sim, STOPPED)["reinstalls_accepted"] == 1


def test_ecs_shaped_and_gateway_shaped_500_are_not_processed(
    sdk: dict[str, ModuleType], served: tuple[Simulator, str, Any]
) -> None:
    sim, _, client = served
    for spec, code in (("Common.0001=1.0", "Common.0001"), ("500=1.0", "APIGW.0601")):
        sim.set_faults(spec)
        with pytest.raises(sdk["exceptions"].ServerResponseException) as caught:
            reinstall(sdk, client, STOPPED, adminpass=GOOD_PASSWORD)
        assert (caught.value.status_code, caught.value.error_code) == (500, code)
    assert truth(sim, STOPPED)["reinstalls_accepted"] == 0


# -- temporary credentials and signed headers ------------------------------------------------


def temporary_credentials(sim: Simulator, url: str, seconds: int = 900) -> dict[str, str]:
    body = {"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": seconds}}}}
    response = httpx.post(
        f"{url}/v3.0/OS-CREDENTIAL/securitytokens",
        json=body,
        headers={"X-Auth-Token": sim.issue_token().reveal()},
    )
    assert response.status_code == 201, response.text
    credential: dict[str, str] = response.json()["credential"]
    assert set(credential) == {"access", "secret", "securitytoken", "expires_at"}
    return credential


def temporary_client(
    sdk: dict[str, ModuleType], sim: Simulator, url: str, temp: dict[str, str], token: str | None
) -> Any:
    creds = sdk["credentials"].BasicCredentials(temp["access"], temp["secret"], sim.project_id)
    if token is not None:
        creds = creds.with_security_token(token)
    config = sdk["http_config"].HttpConfig.get_default_config()
    config.timeout = (5, 10)
    builder = sdk["ecs"].EcsClient.new_builder().with_credentials(creds).with_endpoint(url)
    return builder.with_http_config(config).build()


def test_temporary_credentials_are_checked_on_every_request(
    sdk: dict[str, ModuleType], served: tuple[Simulator, str, Any], clock: ManualClock
) -> None:
    sim, url, _ = served
    temp = temporary_credentials(sim, url)
    errors = sdk["exceptions"]
    show = sdk["ecs"].ShowServerRequest(server_id=HEALTHY)

    good = temporary_client(sdk, sim, url, temp, temp["securitytoken"])
    assert good.show_server(show).server.id == HEALTHY

    missing = temporary_client(sdk, sim, url, temp, None)
    with pytest.raises(errors.ClientRequestException) as no_token:
        missing.show_server(show)
    assert (no_token.value.status_code, no_token.value.error_code) == (401, "APIGW.0301")

    wrong = temporary_client(sdk, sim, url, temp, "gQpsim-not-the-token")
    with pytest.raises(errors.ClientRequestException) as bad_token:
        wrong.show_server(show)
    assert (bad_token.value.status_code, bad_token.value.error_code) == (401, "APIGW.0301")

    clock.advance(901)
    with pytest.raises(errors.ClientRequestException) as expired:
        good.show_server(show)
    assert (expired.value.status_code, expired.value.error_code) == (401, "APIGW.0307")
    assert temp["expires_at"] in expired.value.error_msg


def test_temporary_credential_duration_is_bounded(served: tuple[Simulator, str, Any]) -> None:
    sim, url, _ = served
    body = {"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": 60}}}}
    response = httpx.post(
        f"{url}/v3.0/OS-CREDENTIAL/securitytokens",
        json=body,
        headers={"X-Auth-Token": sim.issue_token().reveal()},
    )
    assert response.status_code == 400
    unauthenticated = httpx.post(f"{url}/v3.0/OS-CREDENTIAL/securitytokens", json=body)
    assert unauthenticated.status_code == 401


class HostlessAuth(httpx.Auth):
    """Signs every header except ``Host`` (which the gateway must insist on)."""

    requires_request_body = True

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Sdk-Date"] = format_sdk_date(datetime.now(timezone.utc))
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        parts = sign(
            request.method,
            request.url.raw_path.partition(b"?")[0].decode("ascii"),
            query_pairs(request.url),
            headers,
            request.content,
            access_key=self.sim.access_key,
            secret_key=self.sim.secret_key.reveal(),
        )
        request.headers["Authorization"] = parts.authorization
        yield request


def test_host_must_be_signed(served: tuple[Simulator, str, Any]) -> None:
    sim, url, _ = served
    with httpx.Client(base_url=url, auth=HostlessAuth(sim)) as client:
        response = client.get(f"/v1/{sim.project_id}/cloudservers/{HEALTHY}")
    assert response.status_code == 401
    assert response.json()["error_code"] == "APIGW.0301"
    assert "host" in response.json()["error_msg"]


# -- body cases the SDK cannot send --------------------------------------------------------


def signed(sim: Simulator, url: str) -> httpx.Client:
    return httpx.Client(base_url=url, auth=auth_for(sim), timeout=10)


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"os-reinstall": {"adminpass": GOOD_PASSWORD, "colour": "red"}, "extra": 1}, 200),
        ({"os-reinstall": {"adminpass": GOOD_PASSWORD, "metadata": {"BYOL": True}}}, 200),
        ({"os-reinstall": {"adminpass": GOOD_PASSWORD, "metadata": {"BYOL": False}}}, 400),
        ({"os-reinstall": {"adminpass": GOOD_PASSWORD, "metadata": {"__system__cmkid": "x"}}}, 200),
        ({"os-reinstall": {"adminpass": GOOD_PASSWORD, "mode": None}}, 200),
        ({"os-reinstall": {"userid": "7e25b1da389f4697a79df3a0e5bd494e", "mode": "x"}}, 400),
    ],
)
def test_silent_cases_over_http(
    served: tuple[Simulator, str, Any], payload: dict[str, Any], status: int
) -> None:
    sim, url, _ = served
    with signed(sim, url) as client:
        response = client.post(reinstall_path(sim, STOPPED), json=payload)
    assert response.status_code == status, response.text


def test_a_text_plain_body_is_not_read_as_json(served: tuple[Simulator, str, Any]) -> None:
    sim, url, _ = served
    body = json.dumps({"os-reinstall": {"adminpass": GOOD_PASSWORD}}).encode()
    with signed(sim, url) as client:
        response = client.post(
            reinstall_path(sim, STOPPED), content=body, headers={"Content-Type": "text/plain"}
        )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "Ecs.0005")
    assert truth(sim, STOPPED)["reinstalls_accepted"] == 0


def test_wrapped_base64_and_spaced_key_pair_names_with_the_sdk(
    sdk: dict[str, ModuleType], served: tuple[Simulator, str, Any]
) -> None:
    sim, _, client = served
    wrapped = base64.encodebytes(b"#cloud-config\n" + b"x" * 300).decode()
    assert reinstall(sdk, client, STOPPED, metadata={"user_data": wrapped}).job_id
    sim.model.add_keypair(KeyPair("team key", sim.user_id, sim.clock()))
    assert reinstall(
        sdk, client, HEALTHY, keyname="team key", userid=sim.user_id, mode="withStopServer"
    ).job_id


def test_kms_keys_come_from_the_fleet_file(
    sdk: dict[str, ModuleType], served: tuple[Simulator, str, Any]
) -> None:
    _, _, client = served
    meta = {"system__encrypted": "1", "system__cmkid": KMS_KEY}
    assert reinstall(sdk, client, STOPPED, adminpass=GOOD_PASSWORD, metadata=meta).job_id
    with pytest.raises(sdk["exceptions"].ClientRequestException) as caught:
        reinstall(
            sdk,
            client,
            HEALTHY,
            adminpass=GOOD_PASSWORD,
            mode="withStopServer",
            metadata={**meta, "system__cmkid": KMS_KEY.replace("0", "1")},
        )
    assert (caught.value.status_code, caught.value.error_code) == (400, "Ecs.0912")


# -- jobs, durations and fleet states ------------------------------------------------------


def test_job_schema_has_sub_jobs(
    sdk: dict[str, ModuleType], served: tuple[Simulator, str, Any], clock: ManualClock
) -> None:
    sim, _, client = served
    show = sdk["ecs"].ShowJobRequest
    ok_id = reinstall(sdk, client, STOPPED, adminpass=GOOD_PASSWORD).job_id
    fail_id = reinstall(sdk, client, FAILING, adminpass=GOOD_PASSWORD).job_id
    running = client.show_job(show(job_id=ok_id))
    assert running.entities.sub_jobs_total == 1 and running.entities.sub_jobs[0].status == "INIT"
    clock.advance(11)
    done = client.show_job(show(job_id=ok_id))
    sub = done.entities.sub_jobs[0]
    assert (done.status, sub.status, sub.entities.server_id) == ("SUCCESS", "SUCCESS", STOPPED)
    assert sub.job_id != ok_id and sub.end_time.endswith("Z")
    failed = client.show_job(show(job_id=fail_id))
    sub = failed.entities.sub_jobs[0]
    assert (failed.status, failed.error_code) == ("FAIL", "Ecs.1000")
    assert (sub.status, sub.error_code) == ("FAIL", "Ecs.1000")
    assert sub.fail_reason and sub.entities.errorcode_message == sub.fail_reason
    assert truth(sim, FAILING)["reinstalls_failed"] == 1


def test_unhealthy_after_reinstall_ends_in_error(
    sdk: dict[str, ModuleType], served: tuple[Simulator, str, Any], clock: ManualClock
) -> None:
    sim, _, client = served
    job_id = reinstall(sdk, client, UNHEALTHY, adminpass=GOOD_PASSWORD, mode="withStopServer")
    clock.advance(11)
    job = client.show_job(sdk["ecs"].ShowJobRequest(job_id=job_id.job_id))
    assert job.status == "SUCCESS"
    server = client.show_server(sdk["ecs"].ShowServerRequest(server_id=UNHEALTHY)).server
    assert server.status == "ERROR" and server.fault["message"]
    assert truth(sim, UNHEALTHY)["reinstalls_completed"] == 1


def test_fleet_files_load_documented_states(
    sdk: dict[str, ModuleType], served: tuple[Simulator, str, Any]
) -> None:
    _, _, client = served
    ecs = sdk["ecs"]
    broken = client.show_server(ecs.ShowServerRequest(server_id=ERROR_SERVER)).server
    assert (broken.status, broken.os_ext_st_svm_state) == ("ERROR", "error")
    assert broken.fault["code"] == 500
    listed = client.list_servers_details(ecs.ListServersDetailsRequest(status="ERROR"))
    assert [s.id for s in listed.servers] == [ERROR_SERVER]
    shelved = client.show_server(ecs.ShowServerRequest(server_id=SHELVED)).server
    assert shelved.status == "SHELVED_OFFLOADED"
    for server_id in (ERROR_SERVER, SHELVED):
        with pytest.raises(sdk["exceptions"].ClientRequestException) as caught:
            reinstall(sdk, client, server_id, adminpass=GOOD_PASSWORD, mode="withStopServer")
        assert caught.value.error_code == "Ecs.0100"


def test_default_duration_is_minutes(sdk: dict[str, ModuleType], clock: ManualClock) -> None:
    sim = Simulator(fleet=FLEET, clock=clock)
    with sim.serve() as url:
        client = make_client(sdk, sim, url)
        show = sdk["ecs"].ShowJobRequest
        ids = [
            reinstall(sdk, client, server_id, adminpass=GOOD_PASSWORD, mode="withStopServer").job_id
            for server_id in (HEALTHY, STOPPED)
        ]
        clock.advance(200)
        assert [client.show_job(show(job_id=j)).status for j in ids] == ["RUNNING"] * 2
        clock.advance(140)
        finished = [client.show_job(show(job_id=j)) for j in ids]
    assert [j.status for j in finished] == ["SUCCESS"] * 2
    durations = {
        datetime.fromisoformat(j.end_time.replace("Z", "+00:00"))
        - datetime.fromisoformat(j.begin_time.replace("Z", "+00:00"))
        for j in finished
    }
    assert len(durations) == 2  # jitter: not two equal durations


def test_upper_case_server_ids_name_the_same_server(
    sdk: dict[str, ModuleType], served: tuple[Simulator, str, Any]
) -> None:
    _, _, client = served
    shown = client.show_server(sdk["ecs"].ShowServerRequest(server_id=HEALTHY.upper())).server
    assert shown.id == HEALTHY


# -- client fixes --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a/b", "a?b", "team key", "50%", "..x"])
async def test_the_client_percent_encodes_key_pair_names(
    served: tuple[Simulator, str, Any], name: str
) -> None:
    sim, url, _ = served
    sim.model.add_keypair(KeyPair(name, sim.user_id, sim.clock()))
    async with our_client(sim, url) as client:
        keypair = await client.get_keypair(name)
    assert keypair.name == name


@pytest.mark.parametrize("name", ["..", ".", ""])
async def test_dot_segments_are_refused_before_sending(
    served: tuple[Simulator, str, Any], name: str
) -> None:
    sim, url, _ = served
    async with our_client(sim, url) as client:
        with pytest.raises(ValidationError) as caught:
            await client.get_keypair(name)
    assert [p.field for p in caught.value.problems] == ["keyname"]
    assert "GET /v2.1/{project_id}/os-keypairs" not in sim.state()["requests"]


async def test_preflight_applies_each_servers_os_rules(served: tuple[Simulator, str, Any]) -> None:
    """A password fine for Linux but not for Windows: the pre-flight and the simulator agree."""
    from ecs_notebook.fleet import preflight

    sim, url, _ = served
    request = ReinstallRequest(adminpass=Secret("Admin@12345x"), mode="withStopServer")
    async with our_client(sim, url) as client:
        servers = [s for s in await client.list_servers() if s.id in (STOPPED, WINDOWS)]
        plan = preflight(servers, request)
        assert [s.id for s in plan.targets] == [STOPPED]
        assert [(k.server_id, "Windows" in k.reason) for k in plan.skipped] == [(WINDOWS, True)]
        assert await client.reinstall(STOPPED, request)
        with pytest.raises(ApiError) as refused:
            await client.reinstall(WINDOWS, request)
    assert (refused.value.status_code, refused.value.code) == (400, "Ecs.0011")


async def test_upper_case_ids_are_one_rule_for_client_and_simulator(
    served: tuple[Simulator, str, Any],
) -> None:
    from ecs_notebook.fleet import preflight

    sim, url, _ = served
    request = ReinstallRequest(adminpass=Secret(GOOD_PASSWORD), mode="withStopServer")
    async with our_client(sim, url) as client:
        servers = await client.list_servers()
        plan = preflight(servers, request, requested_ids=[STOPPED.upper()])
        assert [s.id for s in plan.targets] == [STOPPED] and plan.skipped == ()
        server = await client.get_server(STOPPED.upper())
        assert server.id == STOPPED
        assert await client.reinstall(STOPPED.upper(), request)
    assert truth(sim, STOPPED)["reinstalls_accepted"] == 1


async def test_the_client_signs_with_temporary_credentials(
    served: tuple[Simulator, str, Any], clock: ManualClock
) -> None:
    sim, url, _ = served
    temp = temporary_credentials(sim, url)
    creds = AkSkCredentials(
        temp["access"],
        Secret(temp["secret"]),
        security_token=Secret(temp["securitytoken"]),
        project_id=sim.project_id,
    )
    auth = AkSkAuth(creds)
    async with EcsClient(endpoint=url, auth=auth, project_id=sim.project_id) as client:
        assert (await client.get_server(HEALTHY)).id == HEALTHY
        clock.advance(900)
        with pytest.raises(ApiError) as expired:
            await client.get_server(HEALTHY)
    assert (expired.value.status_code, expired.value.code) == (401, "APIGW.0307")


def test_sdk_non_ascii_header_values_are_verified_over_http(
    sdk: dict[str, ModuleType], served: tuple[Simulator, str, Any]
) -> None:
    _, _, client = served
    request = sdk["ecs"].ShowServerRequest(server_id=HEALTHY)
    invoker = client.show_server_invoker(request).add_header("X-Trace", "café 日本")
    assert invoker.invoke().server.id == HEALTHY
