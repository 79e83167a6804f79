"""The thin HTTP layer: parse a request, call the model, shape the answer (moto style)."""

from __future__ import annotations

import json
from typing import Any

from .exceptions import CloudError, IamError, NovaError, invalid
from .iam import IamModel
from .listing import ServerQuery
from .models import EcsModel
from .wire import SimRequest, SimResponse


def _json_body(request: SimRequest) -> Any:
    kind = (request.header("Content-Type") or "").partition(";")[0].strip().lower()
    if kind != "application/json":
        raise invalid(f"the Content-Type must be application/json (got {kind or 'none'!r})")
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise invalid("the body is not valid JSON") from None


class Responses:
    """One method per route of :mod:`.urls`; each returns a :class:`SimResponse`."""

    def __init__(self, model: EcsModel, iam: IamModel) -> None:
        self.model = model
        self.iam = iam

    def reinstall(self, request: SimRequest, params: dict[str, str]) -> SimResponse:
        """``POST /v2/{project_id}/cloudservers/{server_id}/reinstallos`` -> ``{"job_id"}``."""
        body = _json_body(request)
        job_id = self.model.reinstall(params["server_id"], body)
        return SimResponse.json(200, {"job_id": job_id})

    def show_job(self, request: SimRequest, params: dict[str, str]) -> SimResponse:
        """``GET /v1/{project_id}/jobs/{job_id}``."""
        return SimResponse.json(200, self.model.job(params["job_id"]))

    def list_servers(self, request: SimRequest, params: dict[str, str]) -> SimResponse:
        """``GET /v1/{project_id}/cloudservers/detail`` -> ``{"count", "servers"}``."""
        count, servers = self.model.list_servers(ServerQuery.parse(request.query_pairs()))
        return SimResponse.json(200, {"count": count, "servers": servers})

    def show_server(self, request: SimRequest, params: dict[str, str]) -> SimResponse:
        """``GET /v1/{project_id}/cloudservers/{server_id}`` -> ``{"server"}``."""
        return SimResponse.json(200, {"server": self.model.server(params["server_id"])})

    def list_keypairs(self, request: SimRequest, params: dict[str, str]) -> SimResponse:
        """``GET /v2.1/{project_id}/os-keypairs`` (``limit``, ``marker``)."""
        query = dict(request.query_pairs())
        limit = None
        if "limit" in query:
            try:
                limit = int(query["limit"])
            except ValueError:
                limit = -1
            if limit < 0:
                raise NovaError(
                    400,
                    "badRequest",
                    f"Invalid input for field/attribute limit: {query['limit']!r}",
                )
        keypairs = self.model.list_keypairs(limit, query.get("marker") or None)
        return SimResponse.json(200, {"keypairs": keypairs})

    def show_keypair(self, request: SimRequest, params: dict[str, str]) -> SimResponse:
        """``GET /v2.1/{project_id}/os-keypairs/{keypair_name}`` -> ``{"keypair"}``."""
        return SimResponse.json(200, {"keypair": self.model.keypair(params["keypair_name"])})

    def create_token(self, request: SimRequest, params: dict[str, str]) -> SimResponse:
        """``POST /v3/auth/tokens``: 201, token in ``X-Subject-Token``."""
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise IamError(400, "Bad Request", "The request body is not valid JSON.") from None
        nocatalog = dict(request.query_pairs()).get("nocatalog", "").lower() == "true"
        token, payload = self.iam.login(body, nocatalog=nocatalog)
        return SimResponse.json(201, payload, {"X-Subject-Token": token})

    def create_security_token(self, request: SimRequest, params: dict[str, str]) -> SimResponse:
        """``POST /v3.0/OS-CREDENTIAL/securitytokens``: 201 with a temporary AK/SK and token."""
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise IamError(400, "Bad Request", "The request body is not valid JSON.") from None
        return SimResponse.json(201, self.iam.create_temporary(body))

    def list_auth_projects(self, request: SimRequest, params: dict[str, str]) -> SimResponse:
        """``GET /v3/auth/projects``."""
        return SimResponse.json(200, self.iam.projects())


def error_response(error: CloudError, request_id: str) -> SimResponse:
    """The body format of the component that refused (contract 3.1)."""
    payload: dict[str, Any]
    if error.style == "gateway":
        payload = {"error_code": error.code, "error_msg": error.message, "request_id": request_id}
    elif error.style == "job":
        payload = {"code": error.code, "message": error.message}
    elif error.style == "nova":
        payload = {error.code: {"code": error.status, "message": error.message}}
    elif error.style == "iam":
        payload = {"error": {"code": error.status, "title": error.code, "message": error.message}}
    else:
        payload = {"error": {"code": error.code, "message": error.message}}
    return SimResponse.json(error.status, payload)
