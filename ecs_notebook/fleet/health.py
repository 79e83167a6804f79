"""The health check after a reinstall job ends SUCCESS: is the server back as it should be?

The job can say SUCCESS before the server is usable (the huaweicloud Terraform provider waits
on the server's state after the job for this reason). :func:`check_health` reads the server
until it shows the status the reinstall should leave it in, with no task state, within a
timeout; anything else (``ERROR``, stuck in a task, the wrong status at the deadline) is
unhealthy, with what was seen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Protocol

from ..errors import ApiError, NotFoundError, TransportError
from ..model import WITH_STOP_SERVER
from ..model.servers import Server

RUNNING: Final = "ACTIVE"
STOPPED: Final = "SHUTOFF"
#: Statuses after which waiting longer cannot help.
BROKEN_STATUSES: Final = frozenset({"ERROR", "DELETED", "SOFT_DELETED"})
DEFAULT_TIMEOUT: Final = 600.0
DEFAULT_INTERVAL: Final = 10.0

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class ServerReader(Protocol):
    """What the check needs from a client (``EcsClient`` is one)."""

    async def get_server(self, server_id: str) -> Server:
        """One server's details."""
        ...


def expected_status(before: str | None, mode: str | None) -> str:
    """The status a successful reinstall leaves a server in.

    A running server runs again (``withStopServer`` stops it, reinstalls, starts it); a
    stopped one stays stopped (there is nothing to start again). When the status before is
    not known, ``withStopServer`` means running, and its absence stopped (the API refuses
    a running server without it).
    """
    if before in (RUNNING, STOPPED):
        return before
    return RUNNING if mode == WITH_STOP_SERVER else STOPPED


@dataclass(frozen=True)
class Health:
    """The verdict: ``healthy``, or not with ``seen`` (what the server showed instead).

    ``status`` and ``task_state`` are the last ones read; ``reads`` how many reads it took;
    ``waited`` seconds on the check's clock.
    """

    healthy: bool
    expected: str
    status: str | None
    task_state: str | None
    seen: str
    reads: int
    waited: float

    def __str__(self) -> str:
        return "healthy" if self.healthy else f"unhealthy: {self.seen}"


async def check_health(
    client: ServerReader,
    server_id: str,
    expected: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - a deadline on its own clock
    interval: float = DEFAULT_INTERVAL,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> Health:
    """Read ``server_id`` until it is ``expected`` with no task state, or give a reason why not.

    ``ERROR`` (or deleted) ends the check at once; a task state or another status at the
    deadline is reported as stuck in that task, or timed out in that status. A server that
    cannot be read (the client has already retried) is tried again until the deadline.
    ``clock`` and ``sleep`` are injectable so that tests move time themselves.
    """
    if timeout < 0 or interval <= 0:
        raise ValueError("timeout must be 0 or more and interval more than 0 seconds")
    start = clock()
    reads = 0
    status: str | None = None
    task: str | None = None

    def verdict(seen: str, waited: float | None = None) -> Health:
        waited = clock() - start if waited is None else waited
        return Health(not seen, expected, status, task, seen, reads, waited)

    while True:
        reads += 1
        unreadable: str | None = None
        try:
            server = await client.get_server(server_id)
        except NotFoundError:
            status = task = None
            return verdict("the server no longer exists")
        except (ApiError, TransportError) as exc:
            unreadable = str(exc)
        else:
            status, task = server.status, server.task_state
            if status == expected and not task:
                return verdict("")
            if status in BROKEN_STATUSES:
                return verdict(f"status {status}")
        waited = clock() - start
        if waited >= timeout:
            return verdict(_timeout_reason(expected, status, task, unreadable, waited), waited)
        await sleep(min(interval, timeout - waited))


def _timeout_reason(
    expected: str, status: str | None, task: str | None, unreadable: str | None, waited: float
) -> str:
    after = f"after {waited:g} s"
    if unreadable is not None:
        return f"could not be read {after}: {unreadable}"
    if task:
        return f"stuck in task {task} (status {status}) {after}"
    return f"timeout in status {status} {after} (expected {expected})"
