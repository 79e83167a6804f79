"""The async client over httpx.MockTransport: results, errors, retry rules, paging, tokens."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from ecs_notebook.auth import AkSkAuth, AkSkCredentials, IamPasswordCredentials, TokenAuth
from ecs_notebook.client import EcsClient, RetryPolicy, SyncEcsClient
from ecs_notebook.errors import (
    OutcomeUnknownError,
    RequestRejectedError,
    ServiceError,
    ThrottledError,
    TransportError,
)
from ecs_notebook.model import ReinstallRequest, UserData, ValidationError
from ecs_notebook.secrets import Secret

PID = "0123456789abcdef0123456789abcdef"
SID = "b0a9d2b4-2cae-4b66-a6ba-6af70f3bd7f8"
SK = "exampleSecretKeyDoNotUse0123456789abcdef"
ENDPOINT = "https://ecs.tr-west-1.myhuaweicloud.com"
REQUEST = ReinstallRequest(adminpass="Abcd@1234xyz", mode="withStopServer")

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport that records requests and answers from a list of handlers or exceptions."""

    def __init__(self, *answers: httpx.Response | Exception | Handler) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)


def ok(payload: dict[str, Any], status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=payload, headers={"X-Request-Id": "rid"})


def client_for(recorder: Recorder, **options: Any) -> EcsClient:
    creds = AkSkCredentials("AK", Secret(SK), project_id=PID)
    options.setdefault("retry", RetryPolicy(attempts=4, base_delay=0.0))
    return EcsClient(
        endpoint=ENDPOINT,
        auth=AkSkAuth(creds),
        project_id=PID,
        transport=recorder.transport,
        **options,
    )


async def test_reinstall_sends_the_exact_signed_body_and_returns_the_job_id() -> None:
    rec = Recorder(ok({"job_id": "ff80808288d41e1b018990260955686a"}))
    async with client_for(rec) as client:
        job_id = await client.reinstall(SID, REQUEST)
    assert job_id == "ff80808288d41e1b018990260955686a"
    [sent] = rec.requests
    assert sent.method == "POST"
    assert sent.url.path == f"/v2/{PID}/cloudservers/{SID}/reinstallos"
    assert sent.content == REQUEST.to_json()
    assert sent.headers["Content-Type"] == "application/json;charset=utf-8"
    assert sent.headers["X-Project-Id"] == PID
    assert sent.headers["Authorization"].startswith(
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=content-type;host;"
    )


async def test_invalid_input_sends_nothing() -> None:
    rec = Recorder(ok({"job_id": "x"}))
    async with client_for(rec) as client:
        with pytest.raises(ValidationError, match="user id"):
            await client.reinstall(SID, ReinstallRequest(keyname="k1"))
        with pytest.raises(ValidationError, match="server id"):
            await client.reinstall("../../etc", REQUEST)
    assert rec.requests == []


@pytest.mark.parametrize(
    "lost",
    [
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("reset"),
        httpx.WriteTimeout("slow"),
    ],
)
async def test_post_whose_answer_is_lost_is_not_retried(lost: Exception) -> None:
    rec = Recorder(lost, ok({"job_id": "second"}))
    async with client_for(rec) as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.reinstall(SID, REQUEST)
    assert len(rec.requests) == 1
    assert caught.value.server_id == SID
    assert "REBUILD" in str(caught.value)
    assert "Abcd@1234xyz" not in str(caught.value)


@pytest.mark.parametrize(
    "not_sent", [httpx.ConnectError("refused"), httpx.ConnectTimeout("no route")]
)
async def test_post_that_never_left_is_retried(not_sent: Exception) -> None:
    rec = Recorder(not_sent, ok({"job_id": "j1"}))
    async with client_for(rec) as client:
        assert await client.reinstall(SID, REQUEST) == "j1"
    assert len(rec.requests) == 2


async def test_throttled_post_is_retried_honouring_retry_after() -> None:
    throttled = httpx.Response(
        429, json={"error_code": "APIGW.0308", "error_msg": "slow"}, headers={"Retry-After": "0.05"}
    )
    delays: list[float] = []
    rec = Recorder(throttled, ok({"job_id": "j1"}))
    async with client_for(rec, on_retry=lambda m, p, reason, d: delays.append(d)) as client:
        assert await client.reinstall(SID, REQUEST) == "j1"
    assert len(rec.requests) == 2
    assert delays and delays[0] >= 0.05


async def test_throttling_reported_as_http_202_is_recognised() -> None:
    flow = httpx.Response(
        202, json={"error": {"code": "Common.0024", "message": "Flow limit exceeded"}}
    )
    rec = Recorder(flow)
    async with client_for(rec) as client:
        with pytest.raises(ThrottledError):
            await client.reinstall(SID, REQUEST)
    assert len(rec.requests) == 4


async def test_post_5xx_is_not_retried() -> None:
    rec = Recorder(httpx.Response(500, json={"error": {"code": "Common.0001", "message": "boom"}}))
    async with client_for(rec) as client:
        with pytest.raises(ServiceError):
            await client.reinstall(SID, REQUEST)
    assert len(rec.requests) == 1


async def test_get_is_retried_on_5xx_and_network_errors() -> None:
    job = {"job_id": "j1", "status": "RUNNING", "entities": {"server_id": SID}}
    rec = Recorder(httpx.Response(503, text="unavailable"), httpx.ReadTimeout("t"), ok(job))
    async with client_for(rec) as client:
        result = await client.get_job("j1")
    assert result.status == "RUNNING" and result.server_id == SID
    assert len(rec.requests) == 3


async def test_get_gives_up_after_the_last_attempt() -> None:
    rec = Recorder(httpx.ReadTimeout("t"))
    async with client_for(rec) as client:
        with pytest.raises(TransportError, match="4 attempts"):
            await client.get_job("j1")
    assert len(rec.requests) == 4


async def test_job_fields_and_unknown_statuses_are_kept() -> None:
    payload = {
        "status": "FAIL",
        "job_id": "j2",
        "job_type": "reinstallOS",
        "begin_time": "2024-01-02T03:04:05.123Z",
        "end_time": "2024-01-02T03:08:41.593Z",
        "error_code": "Ecs.1000",
        "fail_reason": "nova error",
        "entities": {
            "sub_jobs": [
                {
                    "status": "FAIL",
                    "job_id": "s1",
                    "entities": {"server_id": SID, "errorcode_message": "disk"},
                }
            ]
        },
    }
    rec = Recorder(
        ok(payload),
        ok({"job_id": "j3", "status": "PENDING_PAYMENT"}),
        ok({"job_id": "j4", "status": "PAUSED"}),
    )
    async with client_for(rec) as client:
        failed = await client.get_job("j2")
        pending = await client.get_job("j3")
        odd = await client.get_job("j4")
    assert failed.finished and not failed.succeeded
    assert failed.begin_time == datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=timezone.utc)
    assert failed.server_id == SID
    assert failed.messages == ("nova error", "disk")
    assert not pending.finished and pending.status == "PENDING_PAYMENT"
    assert odd.status == "PAUSED" and not odd.finished


def _page_server(i: int) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{i:012d}",
        "name": f"web-{i:04d}",
        "status": "ACTIVE",
        "metadata": {"image_name": "Ubuntu 22.04", "os_type": "Linux"},
        "flavor": {"id": "s6.large.2", "name": "s6.large.2", "vcpus": "2"},
        "os-extended-volumes:volumes_attached": [{"id": "v", "bootIndex": "0"}],
        "OS-EXT-SRV-ATTR:user_data": "c2VjcmV0",
        "tags": ["env=prod"],
    }


async def test_list_servers_pages_by_page_number_until_all_are_read() -> None:
    total = 2345

    def handler(request: httpx.Request) -> httpx.Response:
        page, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        ids = range((page - 1) * limit, min(page * limit, total))
        return ok({"count": total, "servers": [_page_server(i) for i in ids]})

    rec = Recorder(handler)
    async with client_for(rec) as client:
        servers = await client.list_servers(not_tags="__type_baremetal", status="ACTIVE")
    assert len(servers) == total
    assert len({s.id for s in servers}) == total
    assert [r.url.params["offset"] for r in rec.requests] == ["1", "2", "3"]
    assert all(r.url.params["not-tags"] == "__type_baremetal" for r in rec.requests)
    assert servers[0].has_system_disk and servers[0].image_name == "Ubuntu 22.04"
    assert "OS-EXT-SRV-ATTR:user_data" not in servers[0].raw


async def test_unknown_filter_is_refused_before_sending() -> None:
    rec = Recorder(ok({}))
    async with client_for(rec) as client:
        with pytest.raises(ValueError, match="colour"):
            await client.list_servers(colour="red")
    assert rec.requests == []


async def test_keypairs() -> None:
    rec = Recorder(
        ok(
            {"keypairs": [{"keypair": {"name": "KeyPair-demo", "fingerprint": "f", "type": "ssh"}}]}
        ),
        ok({"keypair": {"name": "KeyPair-demo", "user_id": "u" * 32}}),
    )
    async with client_for(rec) as client:
        [kp] = await client.list_keypairs()
        detail = await client.get_keypair("KeyPair-demo")
    assert kp.name == "KeyPair-demo" and detail.user_id == "u" * 32
    assert rec.requests[0].url.path == f"/v2.1/{PID}/os-keypairs"


async def test_project_id_is_discovered_by_region_name() -> None:
    creds = AkSkCredentials("AK", Secret(SK))

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host.startswith("iam."):
            return ok(
                {
                    "projects": [
                        {"id": "f" * 32, "name": "tr-west-1"},
                        {"id": "e" * 32, "name": "MOS"},
                    ]
                }
            )
        return ok({"job_id": "j1"})

    rec = Recorder(handler)
    client = EcsClient(
        endpoint=ENDPOINT,
        auth=AkSkAuth(creds),
        region="tr-west-1",
        iam_endpoint="https://iam.tr-west-1.myhuaweicloud.com",
        transport=rec.transport,
    )
    async with client:
        await client.reinstall(SID, REQUEST)
    assert rec.requests[0].url.path == "/v3/auth/projects"
    assert rec.requests[1].url.path == f"/v2/{'f' * 32}/cloudservers/{SID}/reinstallos"
    assert rec.requests[1].headers["X-Project-Id"] == "f" * 32


class TokenIam:
    """A fake IAM + ECS: tokens expire after ``lifetime``; ECS calls need a current token."""

    def __init__(self, now: Callable[[], datetime], lifetime: timedelta) -> None:
        self.now, self.lifetime = now, lifetime
        self.issued: list[str] = []
        self.revoked: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/auth/tokens":
            body = json.loads(request.content)
            assert body["auth"]["identity"]["password"]["user"]["password"] == "pw-Secret1"
            token = f"token-{len(self.issued)}"
            self.issued.append(token)
            expires = (self.now() + self.lifetime).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            return httpx.Response(
                201,
                json={
                    "token": {"expires_at": expires, "project": {"id": PID, "name": "tr-west-1"}}
                },
                headers={"X-Subject-Token": token},
            )
        token = request.headers.get("X-Auth-Token")
        if token != self.issued[-1] or token in self.revoked:
            return httpx.Response(
                401, json={"error_code": "APIGW.0307", "error_msg": "token expires"}
            )
        return ok({"job_id": "j", "status": "SUCCESS"})


async def test_token_auth_fetches_renews_and_recovers_from_revocation() -> None:
    clock = [datetime(2024, 1, 1, tzinfo=timezone.utc)]
    iam = TokenIam(lambda: clock[0], timedelta(hours=24))
    rec = Recorder(iam)
    auth = TokenAuth(
        IamPasswordCredentials("ops", Secret("pw-Secret1"), "acme"),
        iam_endpoint="https://iam.tr-west-1.myhuaweicloud.com",
        region="tr-west-1",
        clock=lambda: clock[0],
    )
    client = EcsClient(endpoint=ENDPOINT, auth=auth, project_id=PID, transport=rec.transport)
    async with client:
        await client.get_job("j")
        await client.get_job("j")
        assert iam.issued == ["token-0"]
        clock[0] += timedelta(hours=23, minutes=45)  # within the renewal margin
        await client.get_job("j")
        assert iam.issued == ["token-0", "token-1"]
        iam.revoked.add("token-1")  # e.g. the user's password changed
        await client.get_job("j")
        assert iam.issued == ["token-0", "token-1", "token-2"]
    assert "pw-Secret1" not in repr(auth) and "token-" not in repr(auth)


def test_sync_facade_works_outside_any_loop() -> None:
    rec = Recorder(ok({"job_id": "j1", "status": "SUCCESS"}))
    with SyncEcsClient(client_for(rec)) as client:
        assert client.get_job("j1").succeeded


async def test_sync_facade_works_inside_a_running_loop() -> None:
    """As in a notebook cell: a loop is running on this thread."""
    rec = Recorder(ok({"job_id": "j1", "status": "SUCCESS"}))
    client = SyncEcsClient(client_for(rec))
    assert client.get_job("j1").succeeded
    client.close()


async def test_no_secret_reaches_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    rec = Recorder(
        httpx.Response(400, json={"error": {"code": "Ecs.0011", "message": "password invalid"}}),
    )
    request = ReinstallRequest(adminpass="Zz9!xyzzy-Secret", user_data=UserData.from_text("x"))
    with caplog.at_level(logging.DEBUG):
        async with client_for(rec) as client:
            with pytest.raises(RequestRejectedError) as caught:
                await client.reinstall(SID, request)
            logging.getLogger("test").debug("client %r request %r", client, request)
    for secret in ("Zz9!xyzzy-Secret", SK):
        assert secret not in caplog.text
        assert secret not in str(caught.value)
        assert secret not in repr(caught.value)
