"""The async ECS client: typed results, typed errors, safe retries."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Final

import httpx

from .. import __version__
from ..auth import AkSkAuth, AkSkCredentials, Credentials, TokenAuth, load_credentials
from ..errors import (
    ApiError,
    CertificateError,
    ConfigurationError,
    EcsNotebookError,
    JobNotFoundError,
    NotFoundError,
    OutcomeUnknownError,
    ThrottledError,
    TransportError,
    WaitTimeoutError,
    classify_response,
)
from ..model import ReinstallRequest, ValidationError, check_project_id, check_server_id
from ..model.ids import check_job_id, not_text
from ..model.jobs import Job
from ..model.problems import Problem
from ..model.servers import Keypair, Server
from ..regions import Endpoints, check_endpoint, resolve_endpoints
from ..secrets import SecretBody
from .http import ApiHttpClient
from .paths import path_segment
from .ratelimit import RateLimiter
from .retry import NOT_SENT_ERRORS, RetryPolicy, error_is_retryable, transport_error_is_retryable
from .transport import certificate_problem, pooled_transport

DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
MAX_PAGE_SIZE: Final = 1000
#: How many "not found" answers in a row a job id gets before :meth:`wait_for_job` gives up
#: (a new job can be briefly unknown to the job API; a wrong id is unknown for ever).
JOB_NOT_FOUND_LIMIT: Final = 5
JSON_POST: Final = "application/json;charset=utf-8"
JSON_GET: Final = "application/json"
#: Query parameters of ``GET /v1/{project_id}/cloudservers/detail`` (contract 4.1).
SERVER_FILTERS: Final = {
    "name": "name",
    "status": "status",
    "tags": "tags",
    "not_tags": "not-tags",
    "flavor": "flavor",
    "ip": "ip",
    "ip_eq": "ip_eq",
    "server_id": "server_id",
    "reservation_id": "reservation_id",
    "enterprise_project_id": "enterprise_project_id",
}

RetryHook = Callable[[str, str, str, float], None]


class EcsClient:
    """Async client for the reinstall, job, server and key pair APIs of one project.

    Use :meth:`connect` to build one from the environment, or pass an ``httpx.Auth``.
    ``transport`` plugs in any httpx transport (the in-process simulator, an
    ``httpx.MockTransport``); real traffic goes through aiohttp's connection pool
    (:func:`~ecs_notebook.client.transport.pooled_transport`). ``on_retry(method, path,
    reason, delay)`` is told of every retry. ``rate_limiter`` spaces every request (polls
    included) to stay under the API's per-user limit, and slows down when throttled.
    """

    def __init__(
        self,
        *,
        endpoint: str,
        auth: httpx.Auth,
        project_id: str | None = None,
        region: str = "custom",
        iam_endpoint: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        max_connections: int = 100,
        on_retry: RetryHook | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        check_endpoint(endpoint)
        if project_id is not None and (problems := check_project_id(project_id)):
            raise ConfigurationError(str(problems[0]))
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self.iam_endpoint = iam_endpoint.rstrip("/") if iam_endpoint else None
        self._project_id = project_id
        self._project_lock: asyncio.Lock | None = None
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self.rate_limiter = rate_limiter
        #: The timeouts every request carries, as httpx's transports read them (made once).
        self._timeout_extension = timeout.as_dict()
        self._http = ApiHttpClient(
            auth=auth,
            transport=transport or pooled_transport(max_connections),
            timeout=timeout,
            headers={"User-Agent": f"ecs-notebook/{__version__}"},
            follow_redirects=False,
        )
        #: Headers every request carries (httpx's defaults, the User-Agent), read once.
        self._headers = dict(self._http.headers)

    @classmethod
    def connect(
        cls,
        region: str | None = None,
        *,
        endpoint: str | None = None,
        project_id: str | None = None,
        credentials: Credentials | None = None,
        iam_endpoint: str | None = None,
        env: Mapping[str, str] | None = None,
        **options: Any,
    ) -> EcsClient:
        """A client from explicit values, else the SDK's environment variables or credentials."""
        creds = load_credentials(credentials, env)
        endpoints = resolve_endpoints(
            region, endpoint=endpoint, iam_endpoint=iam_endpoint or creds.iam_endpoint, env=env
        )
        return cls.from_credentials(creds, endpoints, project_id=project_id, **options)

    @classmethod
    def from_credentials(
        cls,
        credentials: Credentials,
        endpoints: Endpoints,
        *,
        project_id: str | None = None,
        **options: Any,
    ) -> EcsClient:
        """A client for ``endpoints`` that authenticates with ``credentials``."""
        project_id = project_id or credentials.project_id
        auth: httpx.Auth
        if isinstance(credentials, AkSkCredentials):
            auth = AkSkAuth(credentials)
        else:
            if endpoints.iam is None:
                raise ConfigurationError(
                    "token authentication needs an IAM endpoint: set HUAWEICLOUD_SDK_IAM_ENDPOINT"
                )
            auth = TokenAuth(
                credentials,
                iam_endpoint=endpoints.iam,
                region=endpoints.region,
                project_id=project_id,
            )
        return cls(
            endpoint=endpoints.ecs,
            auth=auth,
            project_id=project_id,
            region=endpoints.region,
            iam_endpoint=endpoints.iam,
            **options,
        )

    def __repr__(self) -> str:
        return f"EcsClient(endpoint={self.endpoint!r}, project_id={self._project_id!r})"

    async def __aenter__(self) -> EcsClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # -- project -------------------------------------------------------------------------

    async def project_id(self) -> str:
        """The project id: as given, else found with ``GET /v3/auth/projects`` by region name."""
        if self._project_id is None:
            if self._project_lock is None:
                self._project_lock = asyncio.Lock()
            async with self._project_lock:
                if self._project_id is None:
                    self._project_id = await self._discover_project_id()
        return self._project_id

    async def _discover_project_id(self) -> str:
        if self.iam_endpoint is None:
            raise ConfigurationError(
                "no project id: set HUAWEICLOUD_SDK_PROJECT_ID, or HUAWEICLOUD_SDK_IAM_ENDPOINT "
                "so that it can be looked up"
            )
        response = await self._request(
            "GET", f"{self.iam_endpoint}/v3/auth/projects", idempotent=True
        )
        auth = self._http.auth
        if isinstance(auth, TokenAuth) and auth.project_id:
            # The token was scoped by region name: it says which project it is.
            return auth.project_id
        projects = [p for p in response.get("projects", []) if p.get("name") == self.region]
        if len(projects) != 1:
            raise ConfigurationError(
                f"found {len(projects)} projects named {self.region!r}: "
                "set HUAWEICLOUD_SDK_PROJECT_ID"
            )
        return str(projects[0]["id"])

    # -- the API -------------------------------------------------------------------------

    async def reinstall(self, server_id: str, request: ReinstallRequest) -> str:
        """Start a reinstall (``POST /v2/.../reinstallos``) and return its job id.

        Raises :class:`ValidationError` (nothing sent) for invalid input, and
        :class:`OutcomeUnknownError` when the answer was lost after sending.
        """
        problems = check_server_id(server_id)
        if problems:
            raise ValidationError(problems)
        if not isinstance(request, ReinstallRequest):
            kind = type(request).__name__
            raise ValidationError([Problem("request", f"must be a ReinstallRequest, not {kind}")])
        body = request.secret_body()
        pid = await self.project_id()
        path = f"/v2/{pid}/cloudservers/{server_id}/reinstallos"
        payload = await self._request(
            "POST", path, body=body, idempotent=False, server_id=server_id
        )
        job_id = payload.get("job_id")
        if not isinstance(job_id, str) or not job_id:
            raise ApiError(200, "NoJobId", "the reinstall was answered without a job id")
        return job_id

    async def get_job(self, job_id: str) -> Job:
        """The job's status, times, error code, fail reason and sub-jobs."""
        problems = check_job_id(job_id)
        if problems:
            raise ValidationError(problems)
        pid = await self.project_id()
        return Job.from_api(await self._request("GET", f"/v1/{pid}/jobs/{job_id}", idempotent=True))

    async def get_server(self, server_id: str) -> Server:
        """One server's details (``GET /v1/{project_id}/cloudservers/{server_id}``)."""
        problems = check_server_id(server_id)
        if problems:
            raise ValidationError(problems)
        pid = await self.project_id()
        payload = await self._request("GET", f"/v1/{pid}/cloudservers/{server_id}", idempotent=True)
        return Server.from_api(payload.get("server") or {})

    async def iter_servers(
        self, *, page_size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> AsyncIterator[Server]:
        """Every server matching ``filters`` (contract 4.1), page by page (``offset`` is a page)."""
        if isinstance(page_size, bool) or not isinstance(page_size, int):
            kind = type(page_size).__name__
            raise ValidationError([Problem("page_size", f"must be a whole number, not {kind}")])
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValidationError([Problem("page_size", f"must be 1 to {MAX_PAGE_SIZE}")])
        params = self._server_params(filters)
        pid = await self.project_id()
        page = 1
        while True:
            payload = await self._request(
                "GET",
                f"/v1/{pid}/cloudservers/detail",
                params={**params, "limit": page_size, "offset": page},
                idempotent=True,
            )
            servers = payload.get("servers") or []
            for item in servers:
                yield Server.from_api(item)
            total = payload.get("count")
            seen = (page - 1) * page_size + len(servers)
            if len(servers) < page_size or (isinstance(total, int) and seen >= total):
                return
            page += 1

    async def list_servers(self, **filters: Any) -> list[Server]:
        """All servers matching ``filters``, every page fetched."""
        return [server async for server in self.iter_servers(**filters)]

    async def list_keypairs(self) -> list[Keypair]:
        """The project's key pairs (``GET /v2.1/{project_id}/os-keypairs``)."""
        pid = await self.project_id()
        payload = await self._request("GET", f"/v2.1/{pid}/os-keypairs", idempotent=True)
        return [Keypair.from_api(item) for item in payload.get("keypairs") or []]

    async def get_keypair(self, name: str) -> Keypair:
        """One key pair, with the ``user_id`` that owns it.

        Any name the API may hold can be looked up (it is percent-encoded into the path); the
        stricter rule of :func:`check_keyname` applies to names placed in a reinstall request.
        """
        if not isinstance(name, str):
            raise ValidationError(not_text(name, "keyname"))
        pid = await self.project_id()
        path = f"/v2.1/{pid}/os-keypairs/{path_segment(name, 'keyname')}"
        payload = await self._request("GET", path, idempotent=True)
        return Keypair.from_api(payload)

    async def wait_for_job(
        self,
        job_id: str,
        *,
        interval: float = 5.0,
        timeout: float | None = None,  # noqa: ASYNC109 - a deadline for the whole wait
    ) -> Job:
        """Poll a job until it is finished (a simple loop; the job book polls fleets).

        Raises :class:`JobNotFoundError` when the job id answers "not found"
        :data:`JOB_NOT_FOUND_LIMIT` times in a row, :class:`WaitTimeoutError` after ``timeout``.
        """
        problems = _check_seconds(interval, "interval")
        if timeout is not None:
            problems += _check_seconds(timeout, "timeout")
        if problems:
            raise ValidationError(problems)
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        missing = 0
        while True:
            try:
                job = await self.get_job(job_id)
            except NotFoundError:
                missing += 1
                if missing >= JOB_NOT_FOUND_LIMIT:
                    raise JobNotFoundError(job_id, missing) from None
                status = "not found"
            else:
                missing = 0
                if job.finished:
                    return job
                status = job.status
            if deadline is not None and loop.time() + interval > deadline:
                raise WaitTimeoutError(f"job {job_id} is still {status} after {timeout} s")
            await asyncio.sleep(interval)

    # -- plumbing ------------------------------------------------------------------------

    @staticmethod
    def _server_params(filters: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(filters) - set(SERVER_FILTERS))
        if unknown:
            raise ValidationError([Problem(name, "is not a server filter") for name in unknown])
        params: dict[str, Any] = {}
        for key, value in filters.items():
            if value is None:
                continue
            if isinstance(value, (list, tuple, set)):
                value = ",".join(str(v) for v in value)
            params[SERVER_FILTERS[key]] = value
        return params

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: SecretBody | None = None,
        idempotent: bool,
        server_id: str | None = None,
    ) -> dict[str, Any]:
        """Send one API call through its layers, outermost first, as httpx stacks its own.

        Retry policy (around everything) -> rate limit -> auth (a token first: a failure there
        sent nothing) -> transport -> classify the answer once (body parsed once) -> decode.
        """
        url = path if path.startswith(("http://", "https://")) else self.endpoint + path
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(method, url, params, body)
            if isinstance(outcome, dict):
                return outcome
            error = self._failure(outcome, method, path, idempotent, server_id, attempt)
            delay = self._retry_delay(error, idempotent, attempt)
            if delay is None:
                raise error
            reason = error.code if isinstance(error, ApiError) else type(outcome).__name__
            await self._pause(method, path, reason, delay)

    async def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: SecretBody | None,
    ) -> dict[str, Any] | ApiError | httpx.TransportError:
        """One try: its answer decoded, the API's error, or the network's."""
        if self.rate_limiter is not None:
            await self.rate_limiter.acquire()
        auth = self._http.auth
        if isinstance(auth, TokenAuth):
            await auth.ensure_token(self._http)  # raises TokenError: nothing was sent
        request = self._build(method, url, params, body)
        try:
            response = await self._http.send(request)
        except httpx.TransportError as exc:
            return exc
        error, payload = classify_response(response.status_code, response.content, response.headers)
        if self.rate_limiter is not None:
            if isinstance(error, ThrottledError):
                self.rate_limiter.throttled(error.retry_after)
            else:
                self.rate_limiter.succeeded()
        if error is not None:
            return error
        return _decode(response.status_code, payload)

    def _build(
        self, method: str, url: str, params: Mapping[str, Any] | None, body: SecretBody | None
    ) -> httpx.Request:
        target = httpx.URL(url, params=params) if params else httpx.URL(url)  # parsed once
        headers = {**self._headers, "Host": target.netloc.decode("ascii")}
        headers["Content-Type"] = JSON_POST if body is not None else JSON_GET
        if body is not None:
            headers["Content-Length"] = str(len(body))
        if self._project_id and url.startswith(self.endpoint):
            headers["X-Project-Id"] = self._project_id
        return httpx.Request(
            method,
            target,
            headers=headers,
            stream=body,
            extensions={"timeout": self._timeout_extension},
        )

    @staticmethod
    def _failure(
        failure: ApiError | httpx.TransportError,
        method: str,
        path: str,
        idempotent: bool,
        server_id: str | None,
        attempt: int,
    ) -> EcsNotebookError:
        """The error to raise (or retry) for what one attempt ended with."""
        if isinstance(failure, ApiError):
            return failure
        reason = type(failure).__name__
        not_sent = isinstance(failure, NOT_SENT_ERRORS)
        if certificate_problem(failure):
            return CertificateError(
                f"{method} {path}: the server's TLS certificate was not trusted"
            )
        if not transport_error_is_retryable(failure, idempotent=idempotent):
            return OutcomeUnknownError(method, path, reason, server_id)
        return TransportError(
            f"{method} {path}: {reason} after {attempt} attempts",
            hint="check the endpoint and the network" if not_sent else "",
            nothing_sent=not_sent,
        )

    def _retry_delay(self, error: EcsNotebookError, idempotent: bool, attempt: int) -> float | None:
        """Seconds to wait before sending again, or ``None`` when it must not be sent again."""
        if attempt >= self.retry.attempts:
            return None
        if isinstance(error, ApiError):
            if error_is_retryable(error, idempotent=idempotent):
                return self.retry.delay(attempt, error.retry_after)
            return None
        if type(error) is TransportError:  # not OutcomeUnknownError, not CertificateError
            return self.retry.delay(attempt)
        return None

    async def _pause(self, method: str, path: str, reason: str, delay: float) -> None:
        if self.on_retry is not None:
            self.on_retry(method, path, reason, delay)
        await asyncio.sleep(delay)


def _check_seconds(value: object, field: str) -> list[Problem]:
    """A finite, positive number of seconds, or a problem naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return [Problem(field, f"must be a number of seconds, not {type(value).__name__}")]
    if not math.isfinite(value) or value <= 0:
        return [Problem(field, f"must be a finite positive number of seconds (got {value})")]
    return []


def _decode(status_code: int, payload: object) -> dict[str, Any]:
    """A successful answer's JSON object (``{}`` for an empty body)."""
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise ApiError(status_code, "BadResponse", "the answer is not a JSON object")
    return payload
