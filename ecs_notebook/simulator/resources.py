"""The simulated resources: servers, key pairs and reinstall jobs, with their JSON views.

State is lazy and clock-driven (like moto's ``ManagedState``): a job stores its timeline
and every read computes the job status and the server's state from the time it is given.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NamedTuple

from .catalog import Flavor, Image
from .clock import iso_micro_naive, iso_ms, iso_seconds

_NAMESPACE: Final = "0b7d1c52-8a43-4e0e-9f3a-1f2e3d4c5b6a"
JOB_TYPE: Final = "reinstallOS"
TERMINAL: Final = frozenset({"SUCCESS", "FAIL"})
Outcome = Literal["SUCCESS", "FAIL"]


def derived_uuid(*parts: str) -> str:
    """A stable version-5-shaped UUID derived from ``parts`` (ports, volumes ...)."""
    h = hashlib.sha1(f"{_NAMESPACE}:{':'.join(parts)}".encode(), usedforsecurity=False).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"


@dataclass(frozen=True)
class _Derived:
    port_id: str
    volume_id: str
    mac: str
    security_group_id: str
    host_id: str


class Phase(NamedTuple):
    """What a server looks like until ``until`` (POSIX seconds) while a job runs."""

    until: float
    status: str
    vm_state: str
    task_state: str | None
    power_state: int


RESTING: Final = {
    "ACTIVE": ("active", 1),
    "SHUTOFF": ("stopped", 4),
}
#: Statuses a fleet file may load a server in (contract 4.1, 4.3; ``DELETED`` is admin-only
#: and ``REBUILD`` only comes from a reinstall): vm state, task state, power state.
LOADABLE: Final[dict[str, tuple[str, str | None, int]]] = {
    "ACTIVE": ("active", None, 1),
    "SHUTOFF": ("stopped", None, 4),
    "ERROR": ("error", None, 0),
    "BUILD": ("building", "spawning", 0),
    "REBOOT": ("active", "rebooting", 1),
    "HARD_REBOOT": ("active", "rebooting_hard", 1),
    "MIGRATING": ("active", "migrating", 1),
    "RESIZE": ("active", "resize_prep", 1),
    "VERIFY_RESIZE": ("resized", None, 1),
    "REVERT_RESIZE": ("resized", "resize_reverting", 1),
    "SHELVED": ("shelved", None, 4),
    "SHELVED_OFFLOADED": ("shelved_offloaded", None, 4),
    "UNKNOWN": ("unknown", None, 0),
}
#: The sub-job type of a reinstall (the contract documents none; ours, opaque).
SUB_JOB_TYPE: Final = "reinstallOSSingle"


@dataclass(eq=False)
class Job:
    """One reinstall: a fixed timeline decided when it was accepted."""

    id: str
    server_id: str
    begin: float
    running_at: float
    end: float
    outcome: Outcome
    phases: tuple[Phase, ...]
    final_status: str
    new_key_name: str | None = None
    error_code: str | None = None
    fail_reason: str | None = None
    job_type: str = JOB_TYPE
    sub_job_id: str = ""
    settled: bool = False

    def status(self, now: float) -> str:
        """``INIT``, ``RUNNING``, then ``SUCCESS`` or ``FAIL``."""
        if now >= self.end:
            return self.outcome
        return "INIT" if now < self.running_at else "RUNNING"

    def finished(self, now: float) -> bool:
        """Whether the job has ended at ``now``."""
        return now >= self.end

    def phase(self, now: float) -> Phase | None:
        """The server's look at ``now``, or ``None`` once the job is over."""
        if now >= self.end:
            return None
        for phase in self.phases:
            if now < phase.until:
                return phase
        return self.phases[-1] if self.phases else None

    def to_dict(self, now: float) -> dict[str, Any]:
        """The ``GET /v1/{project_id}/jobs/{job_id}`` body (contract 2.1).

        One sub-job (the single server's reinstall) carries the failure code and reason
        too, with ``entities.errorcode_message`` as the documented sub-job failure cause.
        """
        status = self.status(now)
        failed = status == "FAIL"
        ended = status in TERMINAL
        error_code = self.error_code if failed else None
        fail_reason = self.fail_reason if failed else None
        sub_entities: dict[str, Any] = {"server_id": self.server_id}
        if failed:
            sub_entities["errorcode_message"] = fail_reason
        sub_job = {
            "status": status,
            "job_id": self.sub_job_id or self.id[::-1],
            "job_type": SUB_JOB_TYPE,
            "begin_time": iso_ms(self.running_at) if status != "INIT" else "",
            "end_time": iso_ms(self.end) if ended else "",
            "error_code": error_code,
            "fail_reason": fail_reason,
            "entities": sub_entities,
        }
        return {
            "status": status,
            "job_id": self.id,
            "job_type": self.job_type,
            "begin_time": iso_ms(self.begin),
            "end_time": iso_ms(self.end) if ended else "",
            "error_code": error_code,
            "fail_reason": fail_reason,
            "entities": {"server_id": self.server_id, "sub_jobs_total": 1, "sub_jobs": [sub_job]},
        }


def plan_job(
    *,
    job_id: str,
    server_id: str,
    begin: float,
    duration: float,
    resting_status: str,
    stop_first: bool,
    fail: tuple[str, str] | None,
    new_key_name: str | None,
    sub_job_id: str = "",
    unhealthy: bool = False,
) -> Job:
    """Lay out a reinstall's timeline.

    ``INIT`` for the first 10 %, then ``RUNNING``. A running server reinstalled with
    ``withStopServer`` shows ``powering-off``, the three ``REBUILD`` task states while
    stopped, ``powering-on``, and ends ``ACTIVE`` again. Otherwise it stays in its power
    state through ``rebuilding`` -> ``rebuild_block_device_mapping`` -> ``rebuild_spawning``.
    A failing job (``fail`` = error code, reason) stops halfway; the server goes back to
    its resting status (``SHUTOFF`` if it was stopped for the reinstall). ``unhealthy``: the
    job succeeds, then the server is left in ``ERROR`` instead of its resting status.
    """
    if stop_first:
        steps = [
            Phase(0.15, "ACTIVE", "active", "powering-off", 1),
            Phase(0.45, "REBUILD", "stopped", "rebuilding", 4),
            Phase(0.65, "REBUILD", "stopped", "rebuild_block_device_mapping", 4),
            Phase(0.85, "REBUILD", "stopped", "rebuild_spawning", 4),
            Phase(1.0, "SHUTOFF", "stopped", "powering-on", 4),
        ]
        final = "ACTIVE"
    else:
        vm_state, power = RESTING.get(resting_status, ("active", 1))
        steps = [
            Phase(0.40, "REBUILD", vm_state, "rebuilding", power),
            Phase(0.65, "REBUILD", vm_state, "rebuild_block_device_mapping", power),
            Phase(1.0, "REBUILD", vm_state, "rebuild_spawning", power),
        ]
        final = resting_status if resting_status in RESTING else "ACTIVE"
    share = 1.0
    outcome: Outcome = "SUCCESS"
    if fail is not None:
        share, outcome = 0.5, "FAIL"
        final = "SHUTOFF" if stop_first else resting_status
        cut = [p for p in steps if p.until < share]
        steps = [*cut, steps[len(cut)]._replace(until=share)]
    if unhealthy and fail is None:
        final = "ERROR"
    phases = tuple(p._replace(until=begin + p.until * duration) for p in steps)
    return Job(
        id=job_id,
        server_id=server_id,
        begin=begin,
        running_at=begin + 0.1 * duration,
        end=begin + share * duration,
        outcome=outcome,
        phases=phases,
        final_status=final,
        new_key_name=new_key_name,
        error_code=fail[0] if fail else None,
        fail_reason=fail[1] if fail else None,
        sub_job_id=sub_job_id,
    )


@dataclass(eq=False)
class Server:
    """One ECS. Tests may change ``locked``, ``status``, ``system_disk``, ``cloud_init``."""

    id: str
    name: str
    image: Image
    flavor: Flavor
    availability_zone: str
    created: float
    status: str = "ACTIVE"
    locked: bool = False
    system_disk: bool = True
    cloud_init: bool = True
    reinstall_fails: bool = False
    unhealthy_after_reinstall: bool = False
    fault_message: str = "The ECS is in an abnormal state."
    tags: list[str] = field(default_factory=list)
    private_ip: str = "192.168.0.10"
    vpc_id: str = ""
    key_name: str | None = None
    description: str = ""
    enterprise_project_id: str = "0"
    reservation_id: str = ""
    charging_mode: str = "0"
    updated: float = 0.0
    launched: float = 0.0
    job: Job | None = None
    jobs: list[str] = field(default_factory=list)
    reinstalls_accepted: int = 0
    reinstalls_completed: int = 0
    reinstalls_failed: int = 0
    last_reinstall_failed: bool = False
    _derived: _Derived | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.updated = self.updated or self.created
        self.launched = self.launched or self.created + 45.0
        self.vpc_id = self.vpc_id or derived_uuid("vpc", self.availability_zone)

    @property
    def os_type(self) -> str:
        """``Linux`` or ``Windows``."""
        return self.image.os_type

    def busy(self, now: float) -> bool:
        """Whether a reinstall is still running at ``now``."""
        return self.job is not None and not self.job.finished(now)

    def look(self, now: float) -> Phase:
        """Status, vm/task/power state at ``now``."""
        phase = self.job.phase(now) if self.job is not None else None
        if phase is not None:
            return phase
        vm_state, task_state, power = LOADABLE.get(self.status, ("error", None, 0))
        return Phase(now, self.status, vm_state, task_state, power)

    def derived(self, project_id: str) -> _Derived:
        """Ids that follow from the server's (computed once, on first use)."""
        if self._derived is None:
            digest = hashlib.sha256(self.id.encode()).hexdigest()
            self._derived = _Derived(
                port_id=derived_uuid("port", self.id),
                volume_id=derived_uuid("volume", self.id),
                mac=f"fa:16:3e:{digest[0:2]}:{digest[2:4]}:{digest[4:6]}",
                security_group_id=derived_uuid("sg", self.vpc_id),
                host_id=hashlib.sha256((project_id + self.availability_zone).encode()).hexdigest()[
                    :56
                ],
            )
        return self._derived

    def addresses(self, derived: _Derived) -> dict[str, list[dict[str, Any]]]:
        """``addresses``: one fixed private IPv4 on the VPC."""
        return {
            self.vpc_id: [
                {
                    "version": "4",
                    "addr": self.private_ip,
                    "OS-EXT-IPS:type": "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": derived.mac,
                    "OS-EXT-IPS:port_id": derived.port_id,
                    "primary": True,
                }
            ]
        }

    def to_dict(self, now: float, *, project_id: str, user_id: str) -> dict[str, Any]:
        """``ServerDetail`` (contract 4.2)."""
        look = self.look(now)
        derived = self.derived(project_id)
        image_id = self.image.id
        volumes = []
        if self.system_disk:
            volumes.append(
                {
                    "id": derived.volume_id,
                    "device": "/dev/vda",
                    "bootIndex": "0",
                    "delete_on_termination": "true",
                }
            )
        extra: dict[str, Any] = {}
        if look.status == "ERROR":
            extra["fault"] = {
                "code": 500,
                "message": self.fault_message,
                "created": iso_seconds(self.updated),
            }
        return {
            **extra,
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "status": look.status,
            "OS-EXT-STS:vm_state": look.vm_state,
            "OS-EXT-STS:task_state": look.task_state,
            "OS-EXT-STS:power_state": look.power_state,
            "locked": self.locked,
            "progress": 0,
            "image": {"id": image_id},
            "metadata": {
                "image_name": self.image.name,
                "os_type": self.image.os_type,
                "os_bit": self.image.os_bit,
                "charging_mode": self.charging_mode,
                "vpc_id": self.vpc_id,
                "metering.image_id": image_id,
                "metering.imagetype": self.image.image_type,
                "metering.resourcespeccode": self.flavor.id + ".linux",
                "metering.cloudServiceType": "hws.service.type.ec2",
                "metering.resourcetype": "1",
                "virtual_env_type": "FusionCompute",
            },
            "flavor": self.flavor.to_dict(),
            "addresses": self.addresses(derived),
            "key_name": self.key_name,
            "security_groups": [{"name": "default", "id": derived.security_group_id}],
            "OS-EXT-AZ:availability_zone": self.availability_zone,
            "created": iso_seconds(self.created),
            "updated": iso_seconds(self.updated),
            "OS-SRV-USG:launched_at": iso_micro_naive(self.launched),
            "OS-SRV-USG:terminated_at": "",
            "OS-EXT-SRV-ATTR:reservation_id": self.reservation_id,
            "OS-EXT-SRV-ATTR:hostname": self.name,
            "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
            "OS-DCF:diskConfig": "MANUAL",
            "config_drive": "",
            "tenant_id": project_id,
            "user_id": user_id,
            "hostId": derived.host_id,
            "host_status": "UP",
            "accessIPv4": "",
            "accessIPv6": "",
            "tags": list(self.tags),
            "sys_tags": [
                {"key": "_sys_enterprise_project_id", "value": self.enterprise_project_id}
            ],
            "enterprise_project_id": self.enterprise_project_id,
            "os-extended-volumes:volumes_attached": volumes,
        }


@dataclass(eq=False)
class KeyPair:
    """An SSH key pair owned by an IAM user."""

    name: str
    user_id: str
    created: float
    number: int = 1
    public_key: str = ""

    def __post_init__(self) -> None:
        if not self.public_key:
            blob = hashlib.sha512(("key:" + self.name + self.user_id).encode()).hexdigest()
            self.public_key = f"ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB{blob} Generated-by-Nova"

    @property
    def fingerprint(self) -> str:
        """An MD5-style colon-separated fingerprint of the public key."""
        digest = hashlib.md5(self.public_key.encode(), usedforsecurity=False).digest()
        return ":".join(f"{b:02x}" for b in digest)

    def summary(self) -> dict[str, Any]:
        """A list entry (``NovaSimpleKeypair``): no owner."""
        return {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "public_key": self.public_key,
            "type": "ssh",
        }

    def detail(self) -> dict[str, Any]:
        """The single key pair (``NovaKeypairDetail``) with ``user_id``."""
        stamp = iso_micro_naive(self.created)
        return {
            **self.summary(),
            "user_id": self.user_id,
            "id": self.number,
            "created_at": stamp,
            "updated_at": None,
            "deleted": False,
            "deleted_at": None,
        }
