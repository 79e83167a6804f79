"""The rollout section: settings checked by field, the staging text, the waves, Continue.

Settings are typed as the browser would (an update message on the widget's comm) and what
reaches the browser is read from the comm recorder. The run is played by a RolloutState.
"""

from __future__ import annotations

import re

from ecs_notebook.fleet.rollout import Rollout
from ecs_notebook.fleet.rollout_state import RolloutState
from ecs_notebook.widgets import RolloutPanel
from ecs_notebook.widgets.testing import CommRecorder, send_from_browser


def _state(n: int, rollout: Rollout) -> RolloutState:
    return RolloutState(rollout, [(f"id-{i:03d}", f"web-{i:03d}") for i in range(n)])


def _run_wave(state: RolloutState, failed: frozenset[str] = frozenset()) -> None:
    state.start_wave()
    for sid in state.to_send():
        state.mark_sent(sid)
        state.record(sid, "failed" if sid in failed else "succeeded")


def _rows(panel: RolloutPanel) -> dict[int, list[int]]:
    """The waves table: wave number -> size, sent, succeeded, unhealthy, failed, held."""
    found = re.findall(r'data-wave="(\d+)">((?:<td>[\d,]+</td>)+)</tr>', panel.waves_view.value)
    return {
        int(number): [int(v.replace(",", "")) for v in re.findall(r"<td>([\d,]+)</td>", cells)][1:]
        for number, cells in found
    }


def test_typed_wave_sizes_show_how_the_run_is_staged(recorder: CommRecorder) -> None:
    panel = RolloutPanel()
    assert panel.rollout == Rollout() and "nothing planned yet" in panel.staging.value
    panel.set_plan_size(27)
    assert "27 servers in one wave (not staged)" in panel.staging.value
    mark = recorder.mark()
    send_from_browser(panel.waves_input, value="1,10,25%")
    send_from_browser(panel.max_errors_input, value="2")
    assert panel.rollout == Rollout(waves=[1, 10, "25%"], max_errors=2)
    assert "27 servers in 5 waves: 1, 10, 7, 7, 2" in panel.staging.value
    assert "halts at error 3, allows 2 (max errors 2)" in panel.staging.value
    sent = "".join(m.text for m in recorder.since(mark))
    assert "27 servers in 5 waves: 1, 10, 7, 7, 2" in sent  # it reached the browser


def test_bad_settings_are_shown_under_their_own_field() -> None:
    panel = RolloutPanel()
    panel.set_plan_size(27)
    send_from_browser(panel.waves_input, value="1,150%")
    send_from_browser(panel.max_errors_input, value="abc")
    send_from_browser(panel.bake_input, value=-5.0)
    areas = panel.problem_areas
    assert panel.rollout is None and {p.field for p in panel.problems} == {
        "waves",
        "max_errors",
        "bake",
    }
    assert "150%" in areas["waves"].value and "abc" not in areas["waves"].value
    assert "abc" in areas["max_errors"].value and "bake" in areas["bake"].value
    assert "fix the rollout settings" in panel.staging.value
    send_from_browser(panel.waves_input, value="1,50%")
    assert areas["waves"].value == "" and "abc" in areas["max_errors"].value
    send_from_browser(panel.max_errors_input, value="")
    send_from_browser(panel.bake_input, value=30.0)
    assert panel.rollout == Rollout(waves=[1, "50%"], bake=30)
    assert "27 servers in 3 waves: 1, 14, 12" in panel.staging.value
    assert "halts at the first error" in panel.staging.value


def test_a_halt_shows_its_reason_and_continue_calls_back_once() -> None:
    state = _state(27, Rollout(waves=[1, 10, "25%"]))
    panel = RolloutPanel(state.rollout)
    assert panel.waves_input.value == "1,10,25%"
    presses: list[str] = []

    def proceed() -> None:  # the engine's part
        presses.append("proceed")
        state.proceed()

    panel.on_continue(proceed)
    panel.show(state)
    assert panel.continue_button.disabled and panel.banner.value == ""
    _run_wave(state, failed=frozenset({"id-000"}))
    panel.show(state)
    assert "halted in wave 1" in panel.banner.value and "web-000: failed" in panel.banner.value
    assert "26 held" in panel.banner.value and "errors 1 of 0 allowed" in panel.waves_view.value
    assert _rows(panel)[1] == [1, 1, 0, 0, 1, 0] and _rows(panel)[2] == [10, 0, 0, 0, 0, 10]
    assert not panel.continue_button.disabled
    assert panel.continue_button.description == "Continue (26 held)"
    panel.continue_button.click()
    panel.continue_button.click()  # the second click finds the button disabled
    assert presses == ["proceed"] and not state.halted
    panel.show(state)
    assert panel.banner.value == "" and panel.continue_button.disabled
    assert "errors 0 of 0 allowed" in panel.waves_view.value


def test_between_waves_continue_starts_the_next_wave() -> None:
    state = _state(5, Rollout(waves=[1, 2], pause_between_waves=True))
    panel = RolloutPanel()
    panel.on_continue(state.proceed)
    _run_wave(state)
    panel.show(state.snapshot())
    assert "Wave 1 of 3 passed: 1 sent, 1 succeeded, 0 unhealthy, 0 failed, 0 held" in (
        panel.banner.value
    )
    assert panel.continue_button.description == "Start wave 2"
    assert panel.press_continue() and state.step == "ready"
    assert not panel.press_continue()  # disabled until the next view says so


def test_a_failing_continue_says_why_and_can_be_pressed_again() -> None:
    panel = RolloutPanel()
    state = _state(3, Rollout(waves=[1]))
    _run_wave(state, failed=frozenset({"id-000"}))
    panel.show(state)

    def refuse() -> None:
        raise RuntimeError("journal in use by pid 4242")

    panel.on_continue(refuse)
    assert not panel.press_continue()
    assert "could not continue: journal in use by pid 4242" in panel.banner.value
    assert not panel.continue_button.disabled


def test_the_waves_view_stays_short_for_a_thousand_waves(recorder: CommRecorder) -> None:
    state = _state(1000, Rollout(waves=[1]))
    for _ in range(500):
        _run_wave(state)
    state.start_wave()
    panel = RolloutPanel()
    mark = recorder.mark()
    panel.show(state)
    shown = sorted(_rows(panel))
    assert shown == [1, 2, 3, 499, 500, 501, 502, 503, 1000]
    assert 'class="now" data-wave="501"' in panel.waves_view.value
    assert recorder.bytes_since(mark) < 4000


def test_lock_disables_the_settings() -> None:
    panel = RolloutPanel()
    panel.lock()
    assert all(box.disabled for box in panel.inputs)
    panel.lock(False)
    assert not any(box.disabled for box in panel.inputs)
