"""A synchronous facade over :class:`EcsClient` for notebook cells and scripts.

It runs the async client on a private event loop in a daemon thread, so it works the same
inside Jupyter's running loop and outside any loop, with no event-loop patching.
"""

from __future__ import annotations

from typing import Any

from .._loop import BackgroundLoop, shared_loop
from ..model import ReinstallRequest
from ..model.jobs import Job
from ..model.servers import Keypair, Server
from .ecs import EcsClient


class SyncEcsClient:
    """Blocking twin of :class:`EcsClient`: the same methods, without ``await``."""

    def __init__(self, client: EcsClient, *, loop: BackgroundLoop | None = None) -> None:
        self.aio = client
        self._loop = loop or shared_loop()

    @classmethod
    def connect(cls, region: str | None = None, **options: Any) -> SyncEcsClient:
        """Like :meth:`EcsClient.connect`."""
        return cls(EcsClient.connect(region, **options))

    def __repr__(self) -> str:
        return f"Sync{self.aio!r}"

    def __enter__(self) -> SyncEcsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._loop.run(self.aio.aclose())

    def project_id(self) -> str:
        """See :meth:`EcsClient.project_id`."""
        return self._loop.run(self.aio.project_id())

    def reinstall(self, server_id: str, request: ReinstallRequest) -> str:
        """See :meth:`EcsClient.reinstall`."""
        return self._loop.run(self.aio.reinstall(server_id, request))

    def get_job(self, job_id: str) -> Job:
        """See :meth:`EcsClient.get_job`."""
        return self._loop.run(self.aio.get_job(job_id))

    def wait_for_job(
        self, job_id: str, *, interval: float = 5.0, timeout: float | None = None
    ) -> Job:
        """See :meth:`EcsClient.wait_for_job`."""
        return self._loop.run(self.aio.wait_for_job(job_id, interval=interval, timeout=timeout))

    def get_server(self, server_id: str) -> Server:
        """See :meth:`EcsClient.get_server`."""
        return self._loop.run(self.aio.get_server(server_id))

    def list_servers(self, **filters: Any) -> list[Server]:
        """See :meth:`EcsClient.list_servers`."""
        return self._loop.run(self.aio.list_servers(**filters))

    def list_keypairs(self) -> list[Keypair]:
        """See :meth:`EcsClient.list_keypairs`."""
        return self._loop.run(self.aio.list_keypairs())

    def get_keypair(self, name: str) -> Keypair:
        """See :meth:`EcsClient.get_keypair`."""
        return self._loop.run(self.aio.get_keypair(name))
