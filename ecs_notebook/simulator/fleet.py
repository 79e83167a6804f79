"""Fleets: generated deterministically from a seed, or loaded from a JSON fleet file."""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Final

from ..model.ids import is_server_id
from . import catalog
from .resources import LOADABLE, Server, derived_uuid

_KEYNAME: Final = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_TOP_KEYS: Final = ("servers", "keypairs", "byol_supported", "lenient_mode", "kms_keys")
_SERVER_TYPES: Final[dict[str, type | tuple[type, ...]]] = {
    "id": str,
    "name": str,
    "status": str,
    "locked": bool,
    "system_disk": bool,
    "cloud_init": bool,
    "image_name": str,
    "os_type": str,
    "tags": list,
    "flavor": str,
    "availability_zone": str,
    "private_ip": str,
    "key_name": (str, type(None)),
    "description": str,
    "enterprise_project_id": str,
    "reinstall_fails": bool,
    "unhealthy_after_reinstall": bool,
}
#: (role, share, flavors, os type) of generated fleets.
_ROLES: Final = (
    ("web", 0.28, ("s6.large.2", "s6.xlarge.2"), "Linux"),
    ("api", 0.20, ("c7.large.2", "c7.xlarge.2"), "Linux"),
    ("db", 0.10, ("m7.large.8", "m7.xlarge.8"), "Linux"),
    ("cache", 0.08, ("m7.large.8",), "Linux"),
    ("worker", 0.22, ("c7.2xlarge.4", "s6.2xlarge.2"), "Linux"),
    ("bastion", 0.04, ("s6.small.1",), "Linux"),
    ("winapp", 0.08, ("s6.xlarge.2", "c7.xlarge.2"), "Windows"),
)
_ENVS: Final = (("prod", 0.5), ("staging", 0.3), ("dev", 0.2))
_LINUX: Final = (
    "Ubuntu 22.04 server 64bit",
    "Ubuntu 20.04 server 64bit",
    "CentOS 7.9 64bit",
    "Huawei Cloud EulerOS 2.0 Standard 64 bit",
    "Debian 11.1.0 64bit",
    "Rocky Linux 8.6 64bit",
)
_WINDOWS: Final = (
    "Windows Server 2019 Datacenter 64bit English",
    "Windows Server 2022 Datacenter 64bit English",
)
#: Generated fleets this large get a few servers that cannot be reinstalled, for training.
TRAINING_FLEET: Final = 50
HEALTHY_HEAD: Final = 10


class FleetError(ValueError):
    """A fleet file that cannot be used; the message lists every problem."""


@dataclass
class Fleet:
    """Servers and key pairs to seed a simulator with."""

    servers: list[Server] = field(default_factory=list)
    #: ``(name, owner user id or None for the simulator's user)``.
    keypairs: list[tuple[str, str | None]] = field(default_factory=list)
    byol_supported: bool | None = None
    #: A region that reinstalls a running server sent without ``mode`` (not the default).
    lenient_mode: bool | None = None
    #: KMS key ids that exist (``__system__cmkid`` must be one of them).
    kms_keys: list[str] = field(default_factory=list)


def _ip(index: int, network: int = 0) -> str:
    return f"10.{network}.{(index // 250) % 256}.{index % 250 + 4}"


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    roll = rng.random()
    for name, share in weighted:
        if roll < share:
            return name
        roll -= share
    return weighted[-1][0]


def generate(count: int, seed: int, *, region: str, now: float) -> Fleet:
    """A realistic fleet of ``count`` servers, the same for the same seed.

    Names like ``web-001``/``db-002``, tags ``env=...`` and ``role=...``, several flavors,
    images and zones. From 50 servers on, a few (never among the first ten) are locked,
    have no system disk, or run an image without Cloud-Init.
    """
    if count < 0:
        raise ValueError("the number of servers must not be negative")
    rng = random.Random(f"fleet:{seed}")
    counters: dict[str, int] = {}
    roles = tuple((r[0], r[1]) for r in _ROLES)
    by_role = {r[0]: r for r in _ROLES}
    env_counters = {name: 0 for name, _ in _ENVS}
    zones = [f"{region}a", f"{region}b", f"{region}c"]
    servers = []
    training = count >= TRAINING_FLEET
    forced = (
        {count - 1: "no_cloud_init", count - 2: "locked", count - 3: "no_disk"} if training else {}
    )
    for index in range(count):
        role, _, flavors, os_type = by_role[_pick(rng, roles)]
        counters[role] = counters.get(role, 0) + 1
        env = _pick(rng, _ENVS)
        env_index = [e for e, _ in _ENVS].index(env)
        env_counters[env] += 1
        special = forced.get(index)
        if special is None and training and index >= HEALTHY_HEAD:
            roll = rng.random()
            special = (
                "no_cloud_init"
                if roll < 0.03
                else "locked"
                if roll < 0.05
                else "no_disk"
                if roll < 0.06
                else None
            )
        if special == "no_cloud_init":
            image = catalog.IMAGES[
                "win2012-golden-private" if os_type == "Windows" else "legacy-app-centos6-private"
            ]
        else:
            image = catalog.IMAGES[rng.choice(_WINDOWS if os_type == "Windows" else _LINUX)]
        server = Server(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            name=f"{role}-{counters[role]:03d}",
            image=image,
            flavor=catalog.flavor(rng.choice(flavors)),
            availability_zone=rng.choice(zones),
            created=now - 3600.0 - 600.0 * index,
            status="SHUTOFF" if rng.random() < 0.15 else "ACTIVE",
            locked=special == "locked",
            system_disk=special != "no_disk",
            cloud_init=image.cloud_init,
            tags=[f"env={env}", f"role={role}"],
            private_ip=_ip(env_counters[env], env_index),
            vpc_id=derived_uuid("vpc", region, env),
            key_name="KeyPair-demo" if os_type == "Linux" and rng.random() < 0.6 else None,
            reservation_id="r-" + derived_uuid("reservation", str(seed), str(index // 10))[:8],
        )
        servers.append(server)
    return Fleet(servers)


def load(source: Mapping[str, Any] | str | PathLike[str], *, region: str, now: float) -> Fleet:
    """A fleet from a dict or a JSON file; raises :class:`FleetError` listing every problem."""
    where = "fleet"
    data: Any = source
    if isinstance(source, (str, PathLike)):
        path = Path(source)
        where = f"fleet file {path}"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise FleetError(f"cannot read {where}: {error.strerror or error}") from None
        except ValueError as error:
            raise FleetError(f"{where} is not valid JSON: {error}") from None
    problems: list[str] = []
    fleet = _parse(data, problems, region=region, now=now)
    if problems:
        raise FleetError(f"invalid {where}:\n  " + "\n  ".join(problems))
    return fleet


def _parse(data: Any, problems: list[str], *, region: str, now: float) -> Fleet:
    if not isinstance(data, Mapping):
        problems.append('the top level must be an object such as {"servers": [...]}')
        return Fleet()
    for key in sorted(set(data) - set(_TOP_KEYS)):
        problems.append(f"unknown key {key!r} (known: {', '.join(_TOP_KEYS)})")
    servers_raw = data.get("servers", [])
    if not isinstance(servers_raw, list):
        problems.append("servers must be a list")
        servers_raw = []
    fleet = Fleet()
    seen: set[str] = set()
    for index, raw in enumerate(servers_raw):
        server = _server(raw, f"servers[{index}]", index, problems, region=region, now=now)
        if server is None:
            continue
        if server.id in seen:
            problems.append(f"servers[{index}].id: duplicate id {server.id}")
        seen.add(server.id)
        fleet.servers.append(server)
    keypairs_raw = data.get("keypairs", [])
    if not isinstance(keypairs_raw, list):
        problems.append("keypairs must be a list")
        keypairs_raw = []
    for index, raw in enumerate(keypairs_raw):
        where = f"keypairs[{index}]"
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
            problems.append(f'{where}: must be an object with a "name"')
            continue
        if not _KEYNAME.match(raw["name"]):
            problems.append(f"{where}.name: 1 to 64 letters, digits, '_', '-' or '.'")
        for key in sorted(set(raw) - {"name", "userid"}):
            problems.append(f"{where}: unknown key {key!r} (known: name, userid)")
        owner = raw.get("userid")
        if owner is not None and not isinstance(owner, str):
            problems.append(f"{where}.userid: must be a string")
            owner = None
        fleet.keypairs.append((raw["name"], owner))
    byol = data.get("byol_supported")
    if byol is not None and not isinstance(byol, bool):
        problems.append("byol_supported must be true or false")
        byol = None
    fleet.byol_supported = byol
    lenient = data.get("lenient_mode")
    if lenient is not None and not isinstance(lenient, bool):
        problems.append("lenient_mode must be true or false")
        lenient = None
    fleet.lenient_mode = lenient
    kms_keys = data.get("kms_keys", [])
    if not isinstance(kms_keys, list) or not all(isinstance(k, str) for k in kms_keys):
        problems.append("kms_keys must be a list of KMS key ids (strings)")
        kms_keys = []
    fleet.kms_keys = list(kms_keys)
    return fleet


def _server(
    raw: Any, where: str, index: int, problems: list[str], *, region: str, now: float
) -> Server | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be an object")
        return None
    count = len(problems)
    for key in sorted(set(raw) - set(_SERVER_TYPES)):
        problems.append(f"{where}: unknown key {key!r} (known: {', '.join(_SERVER_TYPES)})")
    for key, kind in _SERVER_TYPES.items():
        if key in raw and not isinstance(raw[key], kind):
            problems.append(f"{where}.{key}: wrong type {type(raw[key]).__name__}")
    for key in ("id", "name"):
        if not raw.get(key):
            problems.append(f"{where}.{key}: is required")
    if isinstance(raw.get("id"), str) and raw["id"] and not is_server_id(raw["id"]):
        problems.append(f"{where}.id: {raw['id']!r} is not a UUID")
    if raw.get("status", "ACTIVE") not in LOADABLE:
        problems.append(
            f"{where}.status: must be one of {', '.join(LOADABLE)} (got {raw['status']!r})"
        )
    if raw.get("os_type", "Linux") not in catalog.OS_TYPES:
        problems.append(f"{where}.os_type: must be Linux or Windows (got {raw['os_type']!r})")
    tags = raw.get("tags", [])
    if isinstance(tags, list) and not all(isinstance(t, str) for t in tags):
        problems.append(f"{where}.tags: must be a list of strings")
    try:
        flavor = catalog.flavor(str(raw.get("flavor", "s6.large.2")))
    except ValueError as error:
        problems.append(f"{where}.flavor: {error}")
    if len(problems) > count:
        return None
    os_type = raw.get("os_type")
    image = catalog.image(
        raw.get("image_name") or catalog.DEFAULT_IMAGE[os_type or "Linux"],
        os_type,
        raw.get("cloud_init"),
    )
    return Server(
        id=raw["id"],
        name=raw["name"],
        image=image,
        flavor=flavor,
        availability_zone=raw.get("availability_zone", f"{region}a"),
        created=now - 3600.0 - 600.0 * index,
        status=raw.get("status", "ACTIVE"),
        locked=raw.get("locked", False),
        system_disk=raw.get("system_disk", True),
        cloud_init=image.cloud_init,
        tags=list(tags),
        private_ip=raw.get("private_ip", _ip(index + 1)),
        vpc_id=derived_uuid("vpc", region, "fleet"),
        key_name=raw.get("key_name"),
        description=raw.get("description", ""),
        enterprise_project_id=raw.get("enterprise_project_id", "0"),
        reinstall_fails=raw.get("reinstall_fails", False),
        unhealthy_after_reinstall=raw.get("unhealthy_after_reinstall", False),
    )
