"""Our client against a real local HTTP server that verifies each request with the official
SDK's own ``Signer``: reinstall, job and list calls must all be accepted."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import pytest

from ecs_notebook.auth import AkSkCredentials
from ecs_notebook.client import EcsClient, SyncEcsClient
from ecs_notebook.model import ReinstallRequest, UserData
from ecs_notebook.secrets import Secret

pytestmark = pytest.mark.sdk
signer_mod = pytest.importorskip("huaweicloudsdkcore.signer.signer")
sdk_request_mod = pytest.importorskip("huaweicloudsdkcore.sdk_request")

AK, SK = "HPUAEXAMPLEAK1234567", "exampleSecretKeyDoNotUse0123456789abcdef"
PID = "0123456789abcdef0123456789abcdef"
SID = "b0a9d2b4-2cae-4b66-a6ba-6af70f3bd7f8"


class _Creds:
    ak, sk = AK, SK


def sdk_authorization(
    method: str, host: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> str:
    """What the SDK's Signer computes for the headers the client said it signed."""
    request = sdk_request_mod.SdkRequest(
        method=method,
        schema="http",
        host=host,
        resource_path=path,
        query_params=parse_qsl(query, keep_blank_values=True),
        header_params=dict(headers),
        body=body.decode() if body else "",
    )
    signed = signer_mod.Signer(_Creds()).sign(request)
    return str(signed.header_params["Authorization"])


class Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, bool]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        authorization = self.headers.get("Authorization", "")
        signed_names = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
        headers = {
            name: self.headers[name] for name in signed_names if self.headers.get(name) is not None
        }
        expected = sdk_authorization(
            self.command, self.headers["Host"], url.path, url.query, headers, body
        )
        accepted = expected == authorization
        Handler.seen.append((self.command, url.path, accepted))
        if not accepted:
            self._send(401, {"error_code": "APIGW.0301", "error_msg": "verify aksk signature fail"})
        elif self.command == "POST":
            self._send(200, {"job_id": "ff80808288d41e1b018990260955686a"})
        elif "/jobs/" in url.path:
            self._send(
                200,
                {
                    "job_id": "ff80808288d41e1b018990260955686a",
                    "status": "SUCCESS",
                    "entities": {"server_id": SID},
                },
            )
        else:
            self._send(
                200, {"count": 1, "servers": [{"id": SID, "name": "web-01", "status": "ACTIVE"}]}
            )

    do_GET = do_POST = _handle

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("security_token", [None, "gQpjbi1ub3J0aC00EXAMPLETOKEN"])
def test_sdk_signer_accepts_our_requests(server: str, security_token: str | None) -> None:
    creds = AkSkCredentials(AK, Secret(SK), security_token, project_id=PID)
    from ecs_notebook.regions import resolve_endpoints

    client = SyncEcsClient(
        EcsClient.from_credentials(creds, resolve_endpoints(None, endpoint=server, env={}))
    )
    request = ReinstallRequest(
        keyname="KeyPair-demo",
        userid="7e25b1da389f4697a79df3a0e5bfa2a8",
        mode="withStopServer",
        user_data=UserData.from_text("#!/bin/bash\necho sunucu-ç ~ * /"),
    )
    with client:
        assert client.reinstall(SID, request) == "ff80808288d41e1b018990260955686a"
        assert client.get_job("ff80808288d41e1b018990260955686a").succeeded
        servers = client.list_servers(
            name="web 01*", tags="env=prod", status="ACTIVE", not_tags="a/b~c"
        )
    assert [s.name for s in servers] == ["web-01"]
    assert [accepted for _, _, accepted in Handler.seen] == [True, True, True]
    assert [method for method, _, _ in Handler.seen] == ["POST", "GET", "GET"]
