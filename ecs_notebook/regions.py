"""Regions and endpoints: the SDK's ECS region table, environment overrides, explicit URLs."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from .errors import ConfigurationError

#: Regions the official SDK knows an ECS endpoint for (``ecs.<id>.myhuaweicloud.com``).
KNOWN_REGIONS: Final = (
    "cn-north-1", "cn-north-4", "cn-south-1", "cn-east-2", "cn-east-3", "cn-southwest-2",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "af-south-1", "sa-brazil-1",
    "la-north-2", "cn-south-4", "na-mexico-1", "la-south-2", "cn-south-2", "cn-north-9",
    "cn-north-2", "ap-southeast-4", "tr-west-1", "me-east-1", "ae-ad-1", "cn-east-4",
    "eu-west-101", "cn-east-5", "eu-west-0", "my-kualalumpur-1", "af-north-1", "ru-moscow-1",
    "ap-southeast-5", "cn-north-11", "cn-north-12", "cn-southwest-3",
)  # fmt: skip
#: Regions with documentation but no endpoint we can vouch for.
REGIONS_WITHOUT_ENDPOINT: Final = {"tr-central-201": "TR-Ankara-PUR"}


#: Our own default region variable (the SDK has none).
ENV_REGION: Final = "ECS_NOTEBOOK_REGION"


def _env_key(service: str, region: str) -> str:
    return f"HUAWEICLOUD_SDK_REGION_{service}_{region.upper().replace('-', '_')}"


@dataclass(frozen=True)
class Endpoints:
    """Where the ECS and IAM APIs of one region are."""

    region: str
    ecs: str
    iam: str | None


def resolve_endpoints(
    region: str | None,
    *,
    endpoint: str | None = None,
    iam_endpoint: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Endpoints:
    """Pick endpoints: an explicit URL, ``HUAWEICLOUD_SDK_REGION_ECS_<REGION>``, or the table."""
    env = os.environ if env is None else env
    region = region or env.get(ENV_REGION) or ""
    ecs = endpoint or (env.get(_env_key("ECS", region), "").split(",")[0].strip() if region else "")
    if not ecs:
        if not region:
            raise ConfigurationError(
                "no region: pass region='tr-west-1' (say) or an explicit endpoint"
            )
        if region in KNOWN_REGIONS:
            ecs = f"https://ecs.{region}.myhuaweicloud.com"
        else:
            name = REGIONS_WITHOUT_ENDPOINT.get(region)
            what = f"{region} ({name})" if name else f"region {region!r}"
            raise ConfigurationError(
                f"no known ECS endpoint for {what}: take it from your console and pass "
                f"--endpoint https://... (endpoint= in Python) or set {_env_key('ECS', region)}"
            )
    iam = iam_endpoint or env.get("HUAWEICLOUD_SDK_IAM_ENDPOINT") or None
    if iam is None and region in KNOWN_REGIONS:
        iam = f"https://iam.{region}.myhuaweicloud.com"
    check_endpoint(ecs)
    if iam:
        check_endpoint(iam)
    return Endpoints(region or "custom", ecs.rstrip("/"), iam.rstrip("/") if iam else None)


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str) -> None:
    """Require HTTPS, except for a loopback address (the simulator, test servers)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(f"endpoint {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigurationError(
            f"endpoint {url!r} uses plain http: only https is allowed, except on a loopback address"
        )
