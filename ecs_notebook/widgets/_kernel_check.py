"""Warn when the kernel is ipykernel 7.0.x, whose widget updates from threads are broken."""

from __future__ import annotations

import warnings
from importlib import metadata


def _installed() -> str | None:
    try:
        return metadata.version("ipykernel")
    except metadata.PackageNotFoundError:
        return None


def check_ipykernel() -> None:
    """Emit a ``RuntimeWarning`` on ipykernel 7.0.x (the job table would stop refreshing)."""
    version = _installed()
    if version is not None and version.split(".")[:2] == ["7", "0"]:
        warnings.warn(
            f"ipykernel {version} drops widget updates made from threads, so the job table "
            "would not refresh: install ipykernel>=7.1",
            RuntimeWarning,
            stacklevel=2,
        )
