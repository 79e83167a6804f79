"""The simulated ECS project: state and rules, no HTTP (the moto-style backend).

Every public method takes the model lock, so the loopback server's thread and the tests'
thread can use one model. Time comes from the injected clock only; jobs advance lazily.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from typing import Any, Final

from . import contract
from . import exceptions as exc
from .clock import Clock, iso_ms
from .contract import WITH_STOP_SERVER, ContractError, ReinstallBody, read_body
from .exceptions import JobQueryError, NovaError, refused
from .listing import ServerQuery
from .resources import Job, KeyPair, Server, plan_job

NO_CLOUD_INIT_REASON = (
    "The image {image} does not have Cloud-Init or Cloudbase-Init installed; "
    "the OS cannot be reinstalled with this API."
)
#: Backend failure of a server loaded with ``reinstall_fails`` (contract 3.2, Ecs.1000).
BACKEND_FAILURE: Final = (
    contract.JOB_BACKEND_ERROR,
    "Failed to reinstall the OS: the compute backend reported an error.",
)
UNHEALTHY_FAULT: Final = "The ECS did not start correctly after its OS was reinstalled."
#: A reinstall in the cloud: the documented job example runs 4 min 36 s (contract 2.1,
#: 03:04:05.123 to 03:08:41.593), so 270 s +- 25 % by default. Tests and runbooks pass less.
CLOUD_JOB_SECONDS: Final = 270.0
CLOUD_JOB_JITTER: Final = 0.25


class EcsModel:
    """Servers, key pairs and jobs of one project, and the reinstall rules.

    The body is judged by :mod:`.contract` alone; the rules that need state follow here.
    A running server reinstalled without ``mode`` is refused with ``Ecs.0100`` (contract 1.2
    rule 4) unless ``lenient_mode`` models a region that rebuilds it while it runs.
    ``kms_keys`` are the KMS key ids that exist (``__system__cmkid`` must be one of them,
    ``Ecs.0912`` otherwise).
    """

    def __init__(
        self,
        *,
        project_id: str,
        user_id: str,
        region: str,
        clock: Clock,
        job_seconds: float = CLOUD_JOB_SECONDS,
        job_jitter: float = CLOUD_JOB_JITTER,
        byol_supported: bool = True,
        lenient_mode: bool = False,
        kms_keys: Iterable[str] = (),
        seed: int = 0,
    ) -> None:
        if job_seconds < 0 or not 0 <= job_jitter < 1:
            raise ValueError("job_seconds must be >= 0 and job_jitter in [0, 1)")
        self.project_id = project_id
        self.user_id = user_id
        self.region = region
        self.clock = clock
        self.job_seconds = job_seconds
        self.job_jitter = job_jitter
        self.byol_supported = byol_supported
        self.lenient_mode = lenient_mode
        self.kms_keys = frozenset(kms_keys)
        self.servers: dict[str, Server] = {}
        self.keypairs: dict[str, KeyPair] = {}
        self.jobs: dict[str, Job] = {}
        self.lock = threading.RLock()
        self._rng = random.Random(f"jobs:{seed}")

    def __repr__(self) -> str:
        return (
            f"EcsModel(project_id={self.project_id!r}, region={self.region!r}, "
            f"servers={len(self.servers)}, jobs={len(self.jobs)})"
        )

    # -- loading -------------------------------------------------------------------------

    def add_server(self, server: Server) -> None:
        """Add a server (ids must be unique; they are kept in lower case, as the cloud shows)."""
        with self.lock:
            server.id = server.id.lower()
            if server.id in self.servers:
                raise ValueError(f"duplicate server id {server.id}")
            self.servers[server.id] = server

    def add_keypair(self, keypair: KeyPair) -> None:
        """Add or replace a key pair."""
        with self.lock:
            keypair.number = len(self.keypairs) + 1
            self.keypairs[keypair.name] = keypair

    # -- lazy state ----------------------------------------------------------------------

    def _settle(self, server: Server, now: float) -> None:
        job = server.job
        if job is None or job.settled or not job.finished(now):
            return
        job.settled = True
        server.status = job.final_status
        server.updated = job.end
        if job.outcome == "SUCCESS":
            if server.status == "ERROR":
                server.fault_message = UNHEALTHY_FAULT
            server.reinstalls_completed += 1
            server.launched = job.end
            server.key_name = job.new_key_name
            server.last_reinstall_failed = False
        else:
            server.reinstalls_failed += 1
            server.last_reinstall_failed = True

    def _server(self, server_id: str, now: float) -> Server:
        server = self.servers.get(server_id.lower())
        if server is None:
            raise exc.server_not_found(server_id)
        self._settle(server, now)
        return server

    # -- reinstall -----------------------------------------------------------------------

    def reinstall(self, server_id: str, body: object) -> str:
        """Accept a reinstall and return its job id, or raise the documented refusal."""
        with self.lock:
            now = self.clock()
            server = self._server(server_id, now)
            try:
                request = read_body(body, os_type=server.os_type)
            except ContractError as error:
                raise refused(error.refusal, error.message) from None
            if request.byol and not self.byol_supported:
                raise refused(contract.BYOL_UNSUPPORTED, f"BYOL is not supported in {self.region}.")
            if request.encrypted and request.cmk_id not in self.kms_keys:
                raise refused(
                    contract.KMS_KEY_INVALID,
                    f"The disk encryption key {request.cmk_id} does not exist or is not usable.",
                )
            self._check_rules(server, request, now)
            job_id = f"{self._rng.getrandbits(128):032x}"
            sub_job_id = f"{self._rng.getrandbits(128):032x}"
            jitter = self._rng.uniform(1 - self.job_jitter, 1 + self.job_jitter)
            fail = None
            if not server.cloud_init:
                reason = NO_CLOUD_INIT_REASON.format(image=server.image.name)
                fail = (contract.JOB_IMAGE_INVALID, reason)
            elif server.reinstall_fails:
                fail = BACKEND_FAILURE
            job = plan_job(
                job_id=job_id,
                server_id=server.id,
                begin=now,
                duration=self.job_seconds * jitter,
                resting_status=server.status,
                stop_first=server.status == "ACTIVE" and request.mode == WITH_STOP_SERVER,
                fail=fail,
                new_key_name=request.keyname,
                sub_job_id=sub_job_id,
                unhealthy=server.unhealthy_after_reinstall,
            )
            self.jobs[job_id] = job
            server.job = job
            server.jobs.append(job_id)
            server.reinstalls_accepted += 1
            return job_id

    def _check_rules(self, server: Server, request: ReinstallBody, now: float) -> None:
        if server.locked:
            raise refused(contract.SERVER_LOCKED, f"The ECS {server.id} is locked.")
        if server.busy(now):
            raise refused(
                contract.SERVER_BUSY,
                f"Other operations are being performed on the ECS {server.id}; "
                "try again in about one minute.",
            )
        if not server.system_disk:
            raise refused(contract.NO_SYSTEM_DISK, f"The ECS {server.id} has no system disk.")
        allowed = {"SHUTOFF"}
        if request.mode == WITH_STOP_SERVER or self.lenient_mode:
            allowed.add("ACTIVE")
        if server.status not in allowed and not server.last_reinstall_failed:
            hint = (
                f"; stop it first or set mode to {WITH_STOP_SERVER}"
                if server.status == "ACTIVE"
                else ""
            )
            raise refused(
                contract.BAD_STATUS,
                f"The ECS status {server.status} does not allow this operation{hint}.",
            )
        keyname, userid = request.keyname, request.userid
        if keyname is not None:
            keypair = self.keypairs.get(keyname)
            if keypair is None:
                raise refused(contract.KEYPAIR_NOT_FOUND, f"The key pair {keyname} does not exist.")
            if keypair.user_id != userid:
                raise refused(
                    contract.KEYPAIR_NOT_FOUND,
                    f"The key pair {keyname} does not exist for user {userid}.",
                )

    # -- reads ---------------------------------------------------------------------------

    def job(self, job_id: str) -> dict[str, Any]:
        """The job body; unknown ids raise ``Common.0011``."""
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None:
                raise JobQueryError(
                    400,
                    exc.JOB_NOT_FOUND,
                    f"The job {job_id} does not exist or the job ID is invalid.",
                )
            now = self.clock()
            self._settle(self.servers[job.server_id], now)
            return job.to_dict(now)

    def server(self, server_id: str) -> dict[str, Any]:
        """One ``ServerDetail``; unknown ids raise ``Ecs.0114`` (404)."""
        with self.lock:
            now = self.clock()
            return self._render(self._server(server_id, now), now)

    def _render(self, server: Server, now: float) -> dict[str, Any]:
        return server.to_dict(now, project_id=self.project_id, user_id=self.user_id)

    def list_servers(self, query: ServerQuery) -> tuple[int, list[dict[str, Any]]]:
        """``(count, page)`` for a listing: newest first, i.e. in fleet order."""
        with self.lock:
            now = self.clock()
            if query.server_ids:
                ids = list(dict.fromkeys(query.server_ids))
                return len(ids), [self._by_id(sid, now) for sid in query.page_of(ids)]
            selected = []
            for server in self.servers.values():
                self._settle(server, now)
                if query.matches(server, now):
                    selected.append(server.id)
            page = query.page_of(selected)
            return len(selected), [self._render(self.servers[sid], now) for sid in page]

    def _by_id(self, server_id: str, now: float) -> dict[str, Any]:
        server = self.servers.get(server_id.lower())
        if server is None:
            fault = {"code": 404, "message": "Instance could not be found", "created": iso_ms(now)}
            return {"id": server_id, "fault": fault}
        self._settle(server, now)
        return self._render(server, now)

    def list_keypairs(
        self, limit: int | None = None, marker: str | None = None
    ) -> list[dict[str, Any]]:
        """Key pair summaries by name; ``marker`` is the last name of the previous page."""
        with self.lock:
            names = sorted(self.keypairs)
            if marker is not None:
                if marker not in self.keypairs:
                    raise NovaError(400, "badRequest", f"marker [{marker}] not found")
                names = names[names.index(marker) + 1 :]
            if limit is not None:
                names = names[:limit]
            return [{"keypair": self.keypairs[n].summary()} for n in names]

    def keypair(self, name: str) -> dict[str, Any]:
        """One key pair with its owner; unknown names are a Nova ``itemNotFound``."""
        with self.lock:
            keypair = self.keypairs.get(name)
            if keypair is None:
                raise NovaError(404, "itemNotFound", f"Keypair {name} could not be found.")
            return keypair.detail()

    def ground_truth(self) -> dict[str, Any]:
        """Per server and job, what really happened (for ``GET /_simulator/state``)."""
        with self.lock:
            now = self.clock()
            servers = {}
            for server in self.servers.values():
                self._settle(server, now)
                look = server.look(now)
                servers[server.id] = {
                    "name": server.name,
                    "status": look.status,
                    "task_state": look.task_state,
                    "locked": server.locked,
                    "reinstalls_accepted": server.reinstalls_accepted,
                    "reinstalls_completed": server.reinstalls_completed,
                    "reinstalls_failed": server.reinstalls_failed,
                    "jobs": list(server.jobs),
                }
            jobs = {
                job_id: {
                    "server_id": job.server_id,
                    "status": job.status(now),
                    "job_type": job.job_type,
                    "begin_time": iso_ms(job.begin),
                    "end_time": iso_ms(job.end),
                    "error_code": job.error_code,
                }
                for job_id, job in self.jobs.items()
            }
            keypairs = {kp.name: {"user_id": kp.user_id} for kp in self.keypairs.values()}
            return {"servers": servers, "jobs": jobs, "keypairs": keypairs, "time": iso_ms(now)}
