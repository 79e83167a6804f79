"""A strict simulator of the Huawei Cloud ECS reinstall APIs, in process or over HTTP.

>>> sim = Simulator(servers=20, seed=1, job_seconds=0.5)
>>> client = httpx.AsyncClient(transport=sim.transport(), base_url=sim.endpoint)  # in process
>>> with sim.serve() as base_url: ...  # real HTTP: uvicorn on loopback in a thread

Layout (moto style): :mod:`.models`/:mod:`.resources`/:mod:`.listing`/:mod:`.validation`
hold state and rules with no HTTP; :mod:`.iam` and :mod:`.gateway` the IAM and API gateway;
:mod:`.urls` routes, :mod:`.responses` shapes answers, :mod:`.dispatch` chains faults,
gateway and handlers for the front ends :mod:`.transport` (httpx) and :mod:`.asgi` (uvicorn).

Choices where the contract leaves room:

* Region rule (contract 1.4): ``stopped_only`` defaults to true only for the partner regions
  whose docs restrict reinstall to stopped servers (``tr-central-201`` ...), false elsewhere
  (as in the API spec). When true, a running server without ``mode=withStopServer`` gets
  ``Ecs.0100`` unless its last reinstall failed.
* Jobs: ``INIT`` for the first 10 % of ``job_seconds`` (± ``job_jitter``, a fraction), then
  ``RUNNING``. ``withStopServer`` on a running server: ``powering-off``, ``REBUILD``
  (``rebuilding`` -> ``rebuild_block_device_mapping`` -> ``rebuild_spawning``) while stopped,
  ``powering-on``, then ``ACTIVE`` again. Without it the server keeps its power state and
  ends as it was (``ACTIVE``/``SHUTOFF``). An image without Cloud-Init is accepted; the job
  fails halfway with ``Ecs.0007``. State is computed from the injected clock at read time.
* Faults (``FaultSpec``) apply to ECS paths only, never to IAM or ``/_simulator/*``.
"""

from .clock import ManualClock
from .core import Simulator
from .exceptions import CloudError
from .faults import FaultSpec
from .fleet import FleetError
from .models import EcsModel

__all__ = ["CloudError", "EcsModel", "FaultSpec", "FleetError", "ManualClock", "Simulator"]
