"""Property tests: arbitrary JSON never breaks the simulator (it answers 200 or a 400).

Which bodies it accepts is judged against the client and the SDK in ``test_differential``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_notebook.simulator import ManualClock, Simulator

from .conftest import FLEET, HEALTHY, STOPPED, WINDOWS, auth_for, reinstall_path

SERVERS = st.sampled_from([HEALTHY, STOPPED, WINDOWS])
FIELD_NAMES = ["adminpass", "keyname", "userid", "mode", "metadata", "junk"]
META_NAMES = ["user_data", "BYOL", "__system__encrypted", "__system__cmkid", "junk"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
SHAPED = st.fixed_dictionaries(
    {
        "os-reinstall": st.dictionaries(
            st.sampled_from(FIELD_NAMES),
            JSON
            | st.dictionaries(st.sampled_from(META_NAMES), JSON | st.text(max_size=8), max_size=4),
            max_size=5,
        )
    }
)


def test_arbitrary_json_never_breaks_it() -> None:
    # job_seconds=0: every job ends at once, so each example finds its server idle.
    sim = Simulator(fleet=FLEET, job_seconds=0, job_jitter=0, clock=ManualClock())
    with httpx.Client(
        transport=sim.sync_transport(), base_url=sim.endpoint, auth=auth_for(sim)
    ) as client:

        @settings(max_examples=400, deadline=None, derandomize=True, database=None)
        @given(payload=st.one_of(JSON, SHAPED, st.binary(max_size=40)), server_id=SERVERS)
        def run(payload: Any, server_id: str) -> None:
            content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            response = client.post(
                reinstall_path(sim, server_id),
                content=content,
                headers={"Content-Type": "application/json;charset=utf-8"},
            )
            assert response.status_code in (200, 400), response.text
            answer = response.json()
            assert "job_id" in answer or answer["error"]["code"] in {
                "Ecs.0005",
                "Ecs.0011",
                "Ecs.0100",
                "Ecs.0314",
                "Ecs.0912",
            }

        run()
