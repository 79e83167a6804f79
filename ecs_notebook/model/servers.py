"""Servers (``ServerDetail``) and key pairs as typed values, flattened for a fleet table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from .jobs import parse_time

REBUILD_TASK_STATES: Final = frozenset(
    {"rebuilding", "rebuild_block_device_mapping", "rebuild_spawning"}
)


def _first_private_ip(addresses: Any) -> str | None:
    if not isinstance(addresses, Mapping):
        return None
    for entries in addresses.values():
        for entry in entries or ():
            if isinstance(entry, Mapping) and entry.get("OS-EXT-IPS:type", "fixed") == "fixed":
                addr = entry.get("addr")
                if isinstance(addr, str):
                    return addr
    return None


@dataclass(frozen=True)
class Server:
    """The fields of an ECS that matter for reinstalling it. ``raw`` keeps the whole answer.

    ``user_data`` (``OS-EXT-SRV-ATTR:user_data``) is deliberately not copied: it may hold secrets.
    """

    id: str
    name: str
    status: str
    task_state: str | None = None
    vm_state: str | None = None
    locked: bool = False
    image_id: str | None = None
    image_name: str | None = None
    os_type: str | None = None
    flavor: str | None = None
    availability_zone: str | None = None
    key_name: str | None = None
    private_ip: str | None = None
    tags: tuple[str, ...] = ()
    has_system_disk: bool = True
    created: datetime | None = None
    updated: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def rebuilding(self) -> bool:
        """True while a reinstall is under way (``REBUILD`` or a ``rebuild*`` task state)."""
        return self.status == "REBUILD" or (self.task_state or "") in REBUILD_TASK_STATES

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> Server:
        """Build a server from one ``ServerDetail`` object."""
        metadata = payload.get("metadata") or {}
        flavor = payload.get("flavor") or {}
        image = payload.get("image") or {}
        volumes = payload.get("os-extended-volumes:volumes_attached")
        has_system_disk = True
        if isinstance(volumes, list):
            # The wire name is ``bootIndex`` (SDK ``ServerExtendVolumeAttachment``); the docs'
            # tables say ``boot_index``: accept both.
            has_system_disk = any(
                str(v.get("bootIndex", v.get("boot_index"))) == "0"
                for v in volumes
                if isinstance(v, Mapping)
            )
        raw = {k: v for k, v in payload.items() if k != "OS-EXT-SRV-ATTR:user_data"}
        return cls(
            id=str(payload.get("id") or ""),
            name=str(payload.get("name") or ""),
            status=str(payload.get("status") or ""),
            task_state=payload.get("OS-EXT-STS:task_state") or None,
            vm_state=payload.get("OS-EXT-STS:vm_state") or None,
            locked=bool(payload.get("locked")),
            image_id=image.get("id") if isinstance(image, Mapping) else None,
            image_name=metadata.get("image_name"),
            os_type=metadata.get("os_type"),
            flavor=(flavor.get("name") or flavor.get("id"))
            if isinstance(flavor, Mapping)
            else None,
            availability_zone=payload.get("OS-EXT-AZ:availability_zone"),
            key_name=payload.get("key_name") or None,
            private_ip=_first_private_ip(payload.get("addresses")),
            tags=tuple(str(t) for t in payload.get("tags") or ()),
            has_system_disk=has_system_disk,
            created=parse_time(payload.get("created")),
            updated=parse_time(payload.get("updated")),
            raw=raw,
        )


@dataclass(frozen=True)
class Keypair:
    """A key pair for the form's drop-down; ``user_id`` is known only from the single-key answer."""

    name: str
    fingerprint: str | None = None
    type: str | None = None
    user_id: str | None = None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> Keypair:
        """Build from ``{"keypair": {...}}`` or the inner object."""
        inner = payload.get("keypair", payload)
        return cls(
            name=str(inner.get("name") or ""),
            fingerprint=inner.get("fingerprint"),
            type=inner.get("type"),
            user_id=inner.get("user_id"),
        )
