"""The official SDK (test oracle) against the simulator's real loopback server."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from ecs_notebook.simulator import ManualClock, Simulator

from .conftest import (
    FLEET,
    GOOD_PASSWORD,
    HEALTHY,
    LOCKED,
    NO_CLOUD_INIT,
    NO_DISK,
    OTHER_USER,
    STOPPED,
    UNKNOWN_SERVER,
)

pytestmark = [
    pytest.mark.sdk,
    # The SDK marks its Nova key pair methods deprecated; they are the documented route.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:huaweicloudsdkecs.*"),
]


def make_client(sdk: dict[str, ModuleType], sim: Simulator, url: str, **overrides: str) -> Any:
    ecs, credentials, http_config = sdk["ecs"], sdk["credentials"], sdk["http_config"]
    config = http_config.HttpConfig.get_default_config()
    config.timeout = (5, 10)
    creds = credentials.BasicCredentials(
        overrides.get("ak", sim.access_key),
        overrides.get("sk", sim.secret_key.reveal()),
        overrides.get("project_id", sim.project_id),
    )
    return (
        ecs.EcsClient.new_builder()
        .with_credentials(creds)
        .with_endpoint(url)
        .with_http_config(config)
        .build()
    )


@pytest.fixture
def served(sdk: dict[str, ModuleType]) -> Iterator[tuple[Simulator, str, Any]]:
    sim = Simulator(fleet=FLEET, seed=9, job_seconds=10, job_jitter=0.1, clock=ManualClock())
    with sim.serve() as url:
        yield sim, url, make_client(sdk, sim, url)


def option(sdk: dict[str, ModuleType], **fields: Any) -> Any:
    ecs = sdk["ecs"]
    metadata = fields.pop("metadata", None)
    if metadata is not None:
        fields["metadata"] = ecs.ReinstallSeverMetadata(**metadata)
    return ecs.ReinstallServerWithCloudInitOption(**fields)


def reinstall(sdk: dict[str, ModuleType], client: Any, server_id: str, **fields: Any) -> Any:
    ecs = sdk["ecs"]
    body = ecs.ReinstallServerWithCloudInitRequestBody(os_reinstall=option(sdk, **fields))
    request = ecs.ReinstallServerWithCloudInitRequest(server_id=server_id, body=body)
    return client.reinstall_server_with_cloud_init(request)


def test_sdk_reinstall_poll_and_page(sdk: dict[str, ModuleType]) -> None:
    ecs = sdk["ecs"]
    clock = ManualClock()
    sim = Simulator(servers=120, seed=2, job_seconds=10, job_jitter=0.1, clock=clock)
    server_id = sim.server_ids()[0]
    with sim.serve() as url:
        client = make_client(sdk, sim, url)
        job_id = reinstall(
            sdk,
            client,
            server_id,
            keyname=sim.keypair_name,
            userid=sim.user_id,
            mode="withStopServer",
        ).job_id
        statuses = []
        for _ in range(30):
            job = client.show_job(ecs.ShowJobRequest(job_id=job_id))
            statuses.append(job.status)
            if job.status in ("SUCCESS", "FAIL"):
                break
            clock.advance(1.0)
        assert statuses[-1] == "SUCCESS" and "RUNNING" in statuses
        assert job.entities.server_id == server_id and job.end_time.endswith("Z")
        shown = client.show_server(ecs.ShowServerRequest(server_id=server_id)).server
        assert shown.status == "ACTIVE" and shown.key_name == sim.keypair_name

        seen: list[str] = []
        for page in (1, 2, 3):
            listed = client.list_servers_details(
                ecs.ListServersDetailsRequest(limit=50, offset=page)
            )
            assert listed.count == 120
            seen += [s.id for s in listed.servers]
        assert seen == sim.server_ids()
        assert listed.servers[0].flavor.vcpus.isdigit()
        tagged = client.list_servers_details(
            ecs.ListServersDetailsRequest(tags="env=prod", limit=1000)
        )
        assert tagged.count == len(tagged.servers) > 0

        keypairs = client.nova_list_keypairs(ecs.NovaListKeypairsRequest()).keypairs
        assert [k.keypair.name for k in keypairs] == [sim.keypair_name]
        detail = client.nova_show_keypair(ecs.NovaShowKeypairRequest(keypair_name=sim.keypair_name))
        assert detail.keypair.user_id == sim.user_id
    truth = sim.state()["servers"][server_id]
    assert (truth["reinstalls_accepted"], truth["reinstalls_completed"]) == (1, 1)


REFUSALS = [
    pytest.param(LOCKED, {"adminpass": GOOD_PASSWORD}, 400, "Ecs.0605", id="locked"),
    pytest.param(NO_DISK, {"adminpass": GOOD_PASSWORD}, 400, "Ecs.0105", id="no-disk"),
    pytest.param(
        STOPPED, {"keyname": "KeyPair-nope", "userid": OTHER_USER}, 400, "Ecs.0314", id="no-key"
    ),
    pytest.param(
        STOPPED, {"keyname": "KeyPair-demo", "userid": OTHER_USER}, 400, "Ecs.0314", id="not-owner"
    ),
    pytest.param(HEALTHY, {"adminpass": GOOD_PASSWORD}, 400, "Ecs.0100", id="running-no-mode"),
    pytest.param(
        STOPPED, {"adminpass": GOOD_PASSWORD, "mode": ""}, 400, "Ecs.0005", id="empty-mode"
    ),
    pytest.param(
        STOPPED,
        {
            "adminpass": GOOD_PASSWORD,
            "metadata": {"system__encrypted": "1", "system__cmkid": "d" * 36},
        },
        400,
        "Ecs.0912",
        id="unknown-kms-key",
    ),
    pytest.param(HEALTHY, {"adminpass": "weak"}, 400, "Ecs.0011", id="password"),
    pytest.param(
        HEALTHY, {"adminpass": GOOD_PASSWORD, "keyname": "KeyPair-demo"}, 400, "Ecs.0005", id="both"
    ),
    pytest.param(HEALTHY, {"keyname": "KeyPair-demo"}, 400, "Ecs.0005", id="no-userid"),
    pytest.param(HEALTHY, {"mode": "withStopServer"}, 400, "Ecs.0005", id="nothing"),
    pytest.param(HEALTHY, {"adminpass": GOOD_PASSWORD, "mode": "now"}, 400, "Ecs.0005", id="mode"),
    pytest.param(
        HEALTHY,
        {"adminpass": GOOD_PASSWORD, "metadata": {"byol": "yes"}},
        400,
        "Ecs.0005",
        id="byol",
    ),
    pytest.param(
        HEALTHY,
        {"adminpass": GOOD_PASSWORD, "metadata": {"system__encrypted": "1", "system__cmkid": "x"}},
        400,
        "Ecs.0005",
        id="cmkid",
    ),
    pytest.param(HEALTHY, {"metadata": {"user_data": "%%%"}}, 400, "Ecs.0005", id="user-data"),
    pytest.param(
        UNKNOWN_SERVER, {"adminpass": GOOD_PASSWORD}, 404, "Ecs.0114", id="unknown-server"
    ),
]


@pytest.mark.parametrize(("server_id", "fields", "status", "code"), REFUSALS)
def test_sdk_sees_documented_refusals(
    sdk: dict[str, ModuleType],
    served: tuple[Simulator, str, Any],
    server_id: str,
    fields: dict[str, Any],
    status: int,
    code: str,
) -> None:
    sim, _, client = served
    if fields.get("keyname") == "KeyPair-demo" and "userid" in fields and "adminpass" not in fields:
        assert fields["userid"] != sim.user_id
    with pytest.raises(sdk["exceptions"].ClientRequestException) as caught:
        reinstall(sdk, client, server_id, **fields)
    assert (caught.value.status_code, caught.value.error_code) == (status, code)
    assert caught.value.request_id
    assert sim.state()["jobs"] == {}


def test_sdk_busy_byol_job_and_project(
    sdk: dict[str, ModuleType], served: tuple[Simulator, str, Any]
) -> None:
    sim, url, client = served
    errors = sdk["exceptions"]
    reinstall(sdk, client, HEALTHY, adminpass=GOOD_PASSWORD, mode="withStopServer")
    with pytest.raises(errors.ServerResponseException) as busy:
        reinstall(sdk, client, HEALTHY, adminpass=GOOD_PASSWORD, mode="withStopServer")
    assert (busy.value.status_code, busy.value.error_code) == (501, "Ecs.0603")

    sim.model.byol_supported = False
    with pytest.raises(errors.ClientRequestException) as byol:
        reinstall(sdk, client, NO_DISK, adminpass=GOOD_PASSWORD, metadata={"byol": "true"})
    assert byol.value.error_code == "Ecs.0090"

    with pytest.raises(errors.ClientRequestException) as job:
        client.show_job(sdk["ecs"].ShowJobRequest(job_id="ff80808288d41e1b018990260955686a"))
    assert (job.value.status_code, job.value.error_code) == (400, "Common.0011")

    other = make_client(sdk, sim, url, project_id="0" * 32)
    with pytest.raises(errors.ClientRequestException) as project:
        reinstall(sdk, other, NO_DISK, adminpass=GOOD_PASSWORD)
    assert project.value.error_code == "Ecs.0023"

    bad = make_client(sdk, sim, url, sk="not-the-secret-key")
    with pytest.raises(errors.ClientRequestException) as auth:
        bad.show_server(sdk["ecs"].ShowServerRequest(server_id=HEALTHY))
    assert (auth.value.status_code, auth.value.error_code) == (401, "APIGW.0301")
    assert auth.value.error_msg.endswith("verify aksk signature fail")


def test_sdk_image_without_cloud_init_fails_in_the_job(
    sdk: dict[str, ModuleType], served: tuple[Simulator, str, Any]
) -> None:
    sim, _, client = served
    job_id = reinstall(
        sdk,
        client,
        NO_CLOUD_INIT,
        keyname=sim.keypair_name,
        userid=sim.user_id,
        mode="withStopServer",
    ).job_id
    assert isinstance(sim.clock, ManualClock)
    sim.clock.advance(12)
    job = client.show_job(sdk["ecs"].ShowJobRequest(job_id=job_id))
    assert job.status == "FAIL" and job.error_code == "Ecs.0007" and job.fail_reason


def test_sdk_post_throttled(sdk: dict[str, ModuleType], served: tuple[Simulator, str, Any]) -> None:
    sim, _, client = served
    sim.set_rate_limit(0.001)
    client.show_server(sdk["ecs"].ShowServerRequest(server_id=HEALTHY))
    with pytest.raises(sdk["exceptions"].ClientRequestException) as caught:
        reinstall(sdk, client, HEALTHY, adminpass=GOOD_PASSWORD)
    assert (caught.value.status_code, caught.value.error_code) == (429, "APIGW.0308")
    assert sim.state()["servers"][HEALTHY]["reinstalls_accepted"] == 0
