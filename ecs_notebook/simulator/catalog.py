"""What the simulated region offers: flavors and public images."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Final

_NAMESPACE: Final = uuid.UUID("6f0c3a2e-5d41-4f7b-9a55-0c1d2e3f4a5b")


@dataclass(frozen=True)
class Flavor:
    """An instance type; the API renders its numbers as strings."""

    id: str
    vcpus: int
    ram_mb: int
    disk_gb: int = 0

    def to_dict(self) -> dict[str, object]:
        """``ServerDetail.flavor`` (contract 4.2)."""
        return {
            "id": self.id,
            "name": self.id,
            "vcpus": str(self.vcpus),
            "ram": str(self.ram_mb),
            "disk": str(self.disk_gb),
            "gpus": [],
            "asic_accelerators": [],
        }


@dataclass(frozen=True)
class Image:
    """A system image; ``cloud_init`` says whether ``reinstallos`` v2 can inject data."""

    name: str
    os_type: str
    cloud_init: bool = True
    os_bit: str = "64"
    image_type: str = "gold"

    @cached_property
    def id(self) -> str:
        """A stable UUID derived from the name."""
        return str(uuid.uuid5(_NAMESPACE, "image:" + self.name))


_SIZES: Final = {
    "small": 1,
    "medium": 1,
    "large": 2,
    "xlarge": 4,
    "2xlarge": 8,
    "3xlarge": 12,
    "4xlarge": 16,
    "6xlarge": 24,
    "8xlarge": 32,
    "16xlarge": 64,
}
_FLAVOR_NAME: Final = re.compile(r"^([a-z]+[0-9]*[a-z]*)\.([0-9]*x?large|small|medium)\.([0-9]+)$")

FLAVORS: Final = (
    "s6.small.1",
    "s6.medium.2",
    "s6.large.2",
    "s6.xlarge.2",
    "s6.2xlarge.2",
    "c7.large.2",
    "c7.xlarge.2",
    "c7.2xlarge.4",
    "m7.large.8",
    "m7.xlarge.8",
)

IMAGES: Final = {
    image.name: image
    for image in (
        Image("Ubuntu 22.04 server 64bit", "Linux"),
        Image("Ubuntu 20.04 server 64bit", "Linux"),
        Image("CentOS 7.9 64bit", "Linux"),
        Image("Huawei Cloud EulerOS 2.0 Standard 64 bit", "Linux"),
        Image("Debian 11.1.0 64bit", "Linux"),
        Image("Rocky Linux 8.6 64bit", "Linux"),
        Image("Windows Server 2019 Datacenter 64bit English", "Windows"),
        Image("Windows Server 2022 Datacenter 64bit English", "Windows"),
        Image("legacy-app-centos6-private", "Linux", cloud_init=False, image_type="private"),
        Image("win2012-golden-private", "Windows", cloud_init=False, image_type="private"),
    )
}
DEFAULT_IMAGE: Final = {
    "Linux": "Ubuntu 22.04 server 64bit",
    "Windows": "Windows Server 2022 Datacenter 64bit English",
}
OS_TYPES: Final = ("Linux", "Windows")


def flavor(flavor_id: str) -> Flavor:
    """The flavor named ``flavor_id`` (``s6.large.2``: 2 vCPUs, 2 GB per vCPU).

    Names follow ``<family>.<size>.<GB per vCPU>``; raises ``ValueError`` otherwise.
    """
    match = _FLAVOR_NAME.match(flavor_id)
    if not match or match.group(2) not in _SIZES:
        raise ValueError(f"unknown flavor {flavor_id!r} (expected a name such as s6.large.2)")
    vcpus = _SIZES[match.group(2)]
    per_cpu_gb = int(match.group(3))
    ram_mb = 1024 * per_cpu_gb * vcpus
    if match.group(2) == "medium":
        ram_mb = 1024 * per_cpu_gb
    return Flavor(flavor_id, vcpus, ram_mb)


def image(name: str, os_type: str | None = None, cloud_init: bool | None = None) -> Image:
    """A catalog image by name, or a private image (OS guessed from the name)."""
    known = IMAGES.get(name)
    if known is None:
        guessed = "Windows" if "win" in name.lower() else "Linux"
        known = Image(name, os_type or guessed, image_type="private")
    if os_type is not None and os_type != known.os_type:
        known = Image(known.name, os_type, known.cloud_init, known.os_bit, known.image_type)
    if cloud_init is not None and cloud_init != known.cloud_init:
        known = Image(known.name, known.os_type, cloud_init, known.os_bit, known.image_type)
    return known
