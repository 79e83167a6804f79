"""The runbooks' target banner says how long a reinstall takes here and in the cloud."""

from __future__ import annotations

from ecs_notebook.widgets.target import connect_target


def test_simulator_banner_states_both_durations() -> None:
    target = connect_target(servers=2, seed=1, job_seconds=8.0, env={})
    assert target.simulator is not None and target.simulator.model.job_seconds == 8.0
    html = target.banner().value
    assert "about 8 s here" in html
    assert "in the cloud it takes minutes (about 4.5 min)" in html
