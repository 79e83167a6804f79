"""A strict simulator of the Huawei Cloud ECS reinstall APIs, in process or over HTTP.

>>> sim = Simulator(servers=20, seed=1, job_seconds=0.5)
>>> client = httpx.AsyncClient(transport=sim.transport(), base_url=sim.endpoint)  # in process
>>> with sim.serve() as base_url: ...  # real HTTP: uvicorn on loopback in a thread

Layout (moto style): :mod:`.contract` is the API contract as the simulator reads it (fields,
limits, rules, refusals, each citing its section), :mod:`.models`/:mod:`.resources`/
:mod:`.listing` hold state and rules with no HTTP; :mod:`.iam` and :mod:`.gateway` (with its
own :mod:`.signature` check) the IAM and API gateway; :mod:`.urls` routes, :mod:`.responses`
shapes answers, :mod:`.dispatch` chains faults, gateway and handlers for the front ends
:mod:`.transport` (httpx) and :mod:`.asgi` (uvicorn). Nothing here imports the client's
validation or signing: the simulator is an independent witness (``docs/simulator.md``).

* A running server reinstalled without ``mode`` is refused with ``Ecs.0100`` (contract 1.2
  rule 4) unless ``lenient_mode`` models a region that allows it.
* Jobs last minutes by default (``job_seconds`` 270 ± 25 %, as the documented example);
  ``INIT`` for the first 10 %, then ``RUNNING``, with one sub-job. ``withStopServer`` on a
  running server: ``powering-off``, ``REBUILD`` while stopped, ``powering-on``, ``ACTIVE``.
  An image without Cloud-Init is accepted and the job fails halfway with ``Ecs.0007``.
* Faults (``FaultSpec``) apply to ECS paths only, never to IAM or ``/_simulator/*``.
"""

from .clock import ManualClock
from .core import Simulator
from .exceptions import CloudError
from .faults import FaultSpec
from .fleet import FleetError
from .models import EcsModel

__all__ = ["CloudError", "EcsModel", "FaultSpec", "FleetError", "ManualClock", "Simulator"]
