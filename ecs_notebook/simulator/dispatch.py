"""One request's path through the simulated cloud, shared by every front end.

``plan`` draws the fault and latency; ``respond`` runs gateway checks and the handler;
``record`` counts the outcome. :func:`exchange` and :func:`exchange_sync` chain them with
the delays and drops; a :class:`Dropped` result means "drop the connection".
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final

from . import exceptions as exc
from .exceptions import CloudError, EcsError, GatewayError, JobQueryError, NovaError
from .faults import DROPS, ECS_FAULTS, LATE, FaultInjector
from .gateway import Caller, Gateway
from .responses import Responses, error_response
from .urls import Route, match
from .wire import Dropped, SimRequest, SimResponse

log = logging.getLogger(__name__)

INTERNAL_PREFIX: Final = "/_simulator/"
MAX_BODY: Final = 12 * 1024 * 1024
UNMATCHED: Final = "<unmatched>"
_STATUSES: Final = frozenset(s.value for s in HTTPStatus)
_FAULT_ERRORS: Final = {
    "429": ("APIGW.0308", "The throttling threshold has been reached: policy api over ratelimit"),
    "502": ("APIGW.0201", "Backend unavailable"),
    "504": ("APIGW.0201", "Backend timeout"),
}


@dataclass(frozen=True)
class Plan:
    """Decided before processing: request id, route, fault and delays."""

    request_id: str
    route: Route | None = None
    params: dict[str, str] = field(default_factory=dict)
    internal: bool = False
    fault: str | None = None
    latency: float = 0.0
    slow: float = 0.0


class Dispatcher:
    """Routes requests through faults, the gateway and the handlers; counts outcomes."""

    def __init__(
        self,
        *,
        responses: Responses,
        gateway: Gateway,
        faults: FaultInjector,
        latency_ms: float = 0.0,
        latency_jitter_ms: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.responses = responses
        self.gateway = gateway
        self.faults = faults
        self.latency_ms = latency_ms
        self.latency_jitter_ms = latency_jitter_ms
        self._rng = random.Random(f"latency:{seed}")
        self._counts: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()

    def plan(self, request: SimRequest) -> Plan:
        """Route the request and draw its fault and latency (no side effect on the cloud)."""
        request_id = uuid.uuid4().hex
        if request.path.startswith(INTERNAL_PREFIX):
            return Plan(request_id, internal=True)
        found = match(request.method, request.path)
        latency = self.latency_ms / 1000.0
        if self.latency_jitter_ms > 0:
            with self._lock:
                latency += self._rng.uniform(0.0, self.latency_jitter_ms / 1000.0)
        if found is None:
            return Plan(request_id, latency=latency)
        route, params = found
        fault = self.faults.draw() if route.ecs else None
        slow = self.faults.spec.slow_seconds if fault == "slow" else 0.0
        return Plan(request_id, route, params, fault=fault, latency=latency, slow=slow)

    def respond(self, request: SimRequest, plan: Plan) -> SimResponse:
        """The answer to ``request`` (processing it unless the plan's fault forbids)."""
        try:
            response = self._respond(request, plan)
        except CloudError as error:
            response = error_response(error, plan.request_id)
        except Exception:
            log.exception("simulator handler failed for %s %s", request.method, request.path)
            failure = EcsError(500, exc.SYSTEM_ERROR, "System exception.")
            response = error_response(failure, plan.request_id)
        if plan.fault in LATE:
            late: CloudError = (
                EcsError(500, exc.SYSTEM_ERROR, "System exception.")
                if plan.fault == "late500"
                else GatewayError(504, exc.REQUEST_ERROR, "Backend timeout")
            )
            response = error_response(late, plan.request_id)
        response.headers.append(("X-Request-Id", plan.request_id))
        return response

    def _respond(self, request: SimRequest, plan: Plan) -> SimResponse:
        if plan.internal:
            return self._internal(request)
        route = plan.route
        if route is None:
            raise GatewayError(
                404,
                exc.API_NOT_FOUND,
                "The API does not exist or has not been published in the environment",
            )
        if plan.fault in ECS_FAULTS:
            status, message = ECS_FAULTS[plan.fault]
            raise EcsError(status, plan.fault, message)
        if plan.fault is not None and plan.fault not in DROPS and plan.fault not in LATE:
            phrase = (
                HTTPStatus(int(plan.fault)).phrase
                if int(plan.fault) in _STATUSES
                else "Server error"
            )
            code, message = _FAULT_ERRORS.get(plan.fault, (exc.GATEWAY_ERROR, phrase))
            raise GatewayError(int(plan.fault), code, message)
        if len(request.body) > MAX_BODY:
            raise GatewayError(413, exc.REQUEST_ERROR, "Request entity too large")
        if route.auth:
            caller = self.gateway.authenticate(request)
            if route.ecs:
                self.gateway.throttle(caller)
                self._check_project(route, plan.params["project_id"], caller, request)
        handler = getattr(self.responses, route.handler)
        response: SimResponse = handler(request, plan.params)
        return response

    def _check_project(
        self, route: Route, url_project: str, caller: Caller, request: SimRequest
    ) -> None:
        own = self.responses.model.project_id if caller.method == "aksk" else caller.project_id
        header = request.header("X-Project-Id")
        if own is not None and url_project == own and header in (None, own):
            return
        if route.style == "job":
            raise JobQueryError(
                400,
                exc.JOB_PROJECT_MISMATCH,
                f"The project {url_project} does not match the token.",
            )
        if route.style == "nova":
            raise NovaError(
                400,
                "badRequest",
                f"Malformed request URL: URL's project_id '{url_project}' doesn't match "
                f"Context's project_id '{own}'",
            )
        raise EcsError(
            400,
            exc.PROJECT_MISMATCH,
            f"The project ID {url_project} in the URL does not match the credentials' project.",
        )

    def _internal(self, request: SimRequest) -> SimResponse:
        if request.method == "GET" and request.path == INTERNAL_PREFIX + "state":
            return SimResponse.json(200, self.state())
        return SimResponse.json(
            404, {"error": f"no simulator endpoint {request.method} {request.path}"}
        )

    def record(self, plan: Plan, outcome: int | str) -> None:
        """Count a cloud request under its route template and outcome (status or drop)."""
        if plan.internal:
            return
        key = plan.route.key if plan.route else UNMATCHED
        with self._lock:
            per_route = self._counts.setdefault(key, {})
            per_route[str(outcome)] = per_route.get(str(outcome), 0) + 1

    def state(self) -> dict[str, Any]:
        """Ground truth: the model's and the request counts."""
        truth = self.responses.model.ground_truth()
        with self._lock:
            truth["requests"] = {k: dict(v) for k, v in self._counts.items()}
        truth["faults"] = str(self.faults.spec)
        truth["rate_limit"] = self.gateway.rate_limit
        return truth


class AnswerTimeout(Exception):
    """The caller's read timeout passed before the answer (blocking front end only)."""


async def exchange(dispatcher: Dispatcher, request: SimRequest) -> SimResponse | Dropped:
    """Serve one request on an event loop; :class:`Dropped` means drop the connection.

    Cancelling it during the latency leaves the request unprocessed; during a ``slow``
    delay, processed (as a client timing out on a real server would find).
    """
    plan = dispatcher.plan(request)
    if plan.latency > 0:
        await asyncio.sleep(plan.latency)
    if plan.fault == "reset":
        dispatcher.record(plan, "reset")
        return Dropped("reset")
    response = dispatcher.respond(request, plan)
    dispatcher.record(plan, "lost" if plan.fault == "lost" else response.status)
    if plan.slow > 0:
        await asyncio.sleep(plan.slow)
    return Dropped("lost", response) if plan.fault == "lost" else response


def exchange_sync(
    dispatcher: Dispatcher, request: SimRequest, timeout: float | None = None
) -> SimResponse | Dropped:
    """:func:`exchange` for blocking callers; raises :class:`AnswerTimeout` after ``timeout``."""
    budget = [timeout]

    def wait(seconds: float) -> None:
        left = budget[0]
        if left is not None and seconds > left:
            time.sleep(left)
            raise AnswerTimeout
        time.sleep(seconds)
        if left is not None:
            budget[0] = left - seconds

    plan = dispatcher.plan(request)
    if plan.latency > 0:
        wait(plan.latency)
    if plan.fault == "reset":
        dispatcher.record(plan, "reset")
        return Dropped("reset")
    response = dispatcher.respond(request, plan)
    dispatcher.record(plan, "lost" if plan.fault == "lost" else response.status)
    if plan.slow > 0:
        wait(plan.slow)
    return Dropped("lost", response) if plan.fault == "lost" else response
