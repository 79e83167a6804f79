"""Staged rollouts: wave sizes (Ansible ``serial``), the error budget (SSM ``MaxErrors``),
the wave state machine and its journal records."""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecs_notebook.fleet.journal import Journal, replay
from ecs_notebook.fleet.records import HELD, UNHEALTHY
from ecs_notebook.fleet.rollout import Rollout, RolloutError, plan_order
from ecs_notebook.fleet.rollout_state import (
    ERROR_OUTCOMES,
    Outcome,
    RolloutState,
    RolloutStateError,
    outcome_of,
)
from ecs_notebook.model.servers import Server

# -- the value ---------------------------------------------------------------------------------


def test_the_issue_example_27_servers_in_waves_of_1_10_25_percent() -> None:
    rollout = Rollout(waves=[1, 10, "25%"], max_errors="2%", bake=60)
    assert rollout.wave_sizes(27) == [1, 10, 7, 7, 2]
    assert rollout.describe(27) == "27 servers in 5 waves: 1, 10, 7, 7, 2"
    assert rollout.verify and not rollout.pause_between_waves and rollout.bake == 60.0


def test_without_waves_the_plan_is_one_wave() -> None:
    assert Rollout().wave_sizes(27) == [27]
    assert Rollout().wave_sizes(0) == []
    assert Rollout().describe(27) == "27 servers in one wave (not staged)"
    assert Rollout(waves="5").describe(1) == "1 server in 1 wave: 1"


def test_many_waves_are_shortened_in_the_staging_text() -> None:
    text = Rollout(waves=[1, 10, "25"]).describe(1000)
    assert text == "1,000 servers in 42 waves: 1, 10, 25 ×39, 14"


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("1,10,25%", (1, 10, "25%")),
        (" 2 , 50% ", (2, "50%")),
        ("2.5%", ("2.5%",)),
        ("100%", ("100%",)),
    ],
)
def test_wave_sizes_are_parsed_from_a_comma_list(text: str, sizes: tuple[object, ...]) -> None:
    assert Rollout(waves=text).waves == sizes


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0", "at least 1"),
        ("-1", "'-1'"),
        ("150%", "to 100%"),
        ("0%", "more than 0"),
        ("abc", "'abc'"),
        ("", "empty"),
        ("1,,5", "wave size 2"),
        ("1,x%", "wave size 2"),
        ("\u0663", "'\u0663'"),  # an Arabic-Indic three is a digit to str.isdigit, not here
        ("2.5", "'2.5'"),
    ],
)
def test_bad_wave_sizes_are_refused_naming_the_field(text: str, says: str) -> None:
    with pytest.raises(RolloutError) as caught:
        Rollout(waves=text)
    assert caught.value.fields == ("waves",)
    assert says in str(caught.value) and str(caught.value).startswith("invalid rollout: waves:")


@pytest.mark.parametrize(
    ("text", "says"),
    [("-1", "'-1'"), ("150%", "0 to 100%"), ("abc", "'abc'"), ("", "empty"), ("3.5", "'3.5'")],
)
def test_bad_error_budgets_are_refused_naming_the_field(text: str, says: str) -> None:
    with pytest.raises(RolloutError) as caught:
        Rollout(waves=[1], max_errors=text)
    assert caught.value.fields == ("max_errors",) and says in str(caught.value)


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(RolloutError) as caught:
        Rollout(waves="0", max_errors="abc", bake=-1, verify="yes")  # type: ignore[arg-type]
    assert caught.value.fields == ("waves", "max_errors", "bake", "verify")


@pytest.mark.parametrize(
    ("rollout", "total", "budget"),
    [
        (Rollout(waves=[1], max_errors=3), 100, 3),
        (Rollout(max_errors="2%"), 1000, 20),
        (Rollout(max_errors="2%"), 27, 0),  # rounded down: the safe side
        (Rollout(max_errors="10%"), 27, 2),
        (Rollout(waves=[1, 10]), 27, 0),  # staged with no budget: any failure halts
        (Rollout(), 27, None),  # not staged, no budget: nothing halts
        (Rollout(max_errors=0), 27, 0),
    ],
)
def test_the_error_budget(rollout: Rollout, total: int, budget: int | None) -> None:
    assert rollout.budget(total) == budget


def test_a_rollout_survives_the_journal() -> None:
    rollout = Rollout(
        waves=[1, "2.5%"], max_errors=3, bake=30, verify=False, pause_between_waves=True
    )
    assert Rollout.from_dict(json.loads(json.dumps(rollout.to_dict()))) == rollout


# -- properties of wave sizes and order --------------------------------------------------------

sizes_spec = st.lists(
    st.one_of(st.integers(1, 50), st.integers(1, 100).map(lambda p: f"{p}%")),
    min_size=1,
    max_size=6,
)


def _resolved(spec: object, total: int) -> int:
    """The size a spec stands for, by integer arithmetic (not the code's Fraction)."""
    if isinstance(spec, int):
        return spec
    pct = int(str(spec)[:-1])
    return max(1, -(-pct * total // 100))


@given(spec=sizes_spec, total=st.integers(0, 3000))
def test_wave_sizes_follow_serial_and_sum_to_the_plan(spec: list[Any], total: int) -> None:
    sizes = Rollout(waves=spec).wave_sizes(total)
    assert sum(sizes) == total and all(s >= 1 for s in sizes)
    wanted = chain((_resolved(s, total) for s in spec), repeat(_resolved(spec[-1], total)))
    for size, want in zip(sizes[:-1], wanted, strict=False):
        assert size == want  # every wave but the last is exactly its size
    if sizes:
        assert sizes[-1] <= _resolved((spec + [spec[-1]] * len(sizes))[len(sizes) - 1], total)


names = st.text(alphabet="abc-0", min_size=0, max_size=3)


@given(
    spec=sizes_spec,
    servers=st.lists(st.tuples(names, st.uuids().map(str)), max_size=60, unique_by=lambda t: t[1]),
)
def test_waves_take_servers_in_plan_order(spec: list[Any], servers: list[tuple[str, str]]) -> None:
    fleet = [Server(id=sid, name=name, status="ACTIVE") for name, sid in servers]
    state = RolloutState.for_plan(Rollout(waves=spec), fleet)
    flat = [sid for wave in state.waves for sid in wave]
    assert flat == [sid for _, sid in sorted(servers)]  # by name, then id
    assert [len(w) for w in state.waves] == Rollout(waves=spec).wave_sizes(len(servers))
    assert [s.id for s in plan_order(fleet)] == flat


outcomes = st.sampled_from(["succeeded", "failed", "unhealthy", "refused", "unconfirmed"])


@given(
    budget=st.integers(0, 6),
    results=st.lists(outcomes, min_size=1, max_size=40),
    wave=st.integers(1, 8),
)
def test_the_run_halts_at_the_first_error_past_the_budget(
    budget: int, results: list[Outcome], wave: int
) -> None:
    state = _state(len(results), Rollout(waves=[wave], max_errors=budget))
    errors = 0
    sent: list[str] = []
    for sid, outcome in zip(state.order, results, strict=False):
        while not state.may_send(sid):
            if state.step != "ready":
                break
            state.start_wave()
        if not state.may_send(sid):
            break
        state.mark_sent(sid)
        sent.append(sid)
        records = state.record(sid, outcome)
        errors += outcome in ERROR_OUTCOMES
        assert state.halted == (errors > budget)
        assert [r["t"] for r in records] == (["halt"] if errors == budget + 1 else [])
    assert errors <= budget + 1  # nothing was sent after the halting error
    if state.halted:
        assert state.held == tuple(sid for sid in state.order if sid not in sent)
        assert not any(state.may_send(sid) for sid in state.order)
        assert state.step == "halted" and state.to_send() == ()
    else:
        assert state.held == () and len(sent) == len(results)


# -- the state machine -------------------------------------------------------------------------


def _state(n: int, rollout: Rollout) -> RolloutState:
    return RolloutState(rollout, [(f"id-{i:03d}", f"web-{i:03d}") for i in range(n)])


def _finish_wave(
    state: RolloutState, outcome_for: dict[str, Outcome] | None = None
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for sid in state.to_send():
        if not state.may_send(sid):  # halted meanwhile
            break
        state.mark_sent(sid)
        records += state.record(sid, (outcome_for or {}).get(sid, "succeeded"))
    return records


def test_a_failing_canary_halts_before_wave_two_and_holds_the_rest() -> None:
    state = _state(27, Rollout(waves=[1, 10, "25%"]))
    assert state.step == "ready" and state.to_send() == ()
    assert state.start_wave()[0] == {"t": "wave", "wave": 1, "size": 1, "servers": ["id-000"]}
    assert state.to_send() == ("id-000",) and not state.may_send("id-001")
    state.mark_sent("id-000")
    assert state.step == "waiting"
    (halt,) = state.record("id-000", "failed")
    assert halt["t"] == "halt" and halt["held"] == 26 and halt["budget"] == 0
    assert "halted in wave 1" in halt["reason"] and "web-000: failed" in halt["reason"]
    assert state.step == "halted" and len(state.held) == 26
    with pytest.raises(RolloutStateError, match="halted"):
        state.start_wave()
    assert [c.line() for c in state.counts()[:2]] == [
        "1 sent, 0 succeeded, 0 unhealthy, 1 failed, 0 held",
        "0 sent, 0 succeeded, 0 unhealthy, 0 failed, 10 held",
    ]


def test_a_passing_staged_run_goes_wave_by_wave_to_done() -> None:
    state = _state(27, Rollout(waves=[1, 10, "25%"]))
    steps = []
    while state.step != "done":
        state.start_wave()
        steps.append(state.step)
        sent = state.to_send()
        for sid in sent:
            state.mark_sent(sid)
        steps.append(state.step)
        for sid in sent:
            state.record(sid, "succeeded")
    assert steps == ["sending", "waiting"] * 5
    assert [(c.size, c.sent, c.succeeded, c.held) for c in state.counts()] == [
        (1, 1, 1, 0),
        (10, 10, 10, 0),
        (7, 7, 7, 0),
        (7, 7, 7, 0),
        (2, 2, 2, 0),
    ]


def test_max_errors_3_the_fourth_error_halts_and_in_flight_still_counts() -> None:
    state = _state(40, Rollout(waves=[10], max_errors=3))
    state.start_wave()
    _finish_wave(state, {"id-000": "failed", "id-005": "refused"})
    state.start_wave()
    wave2 = state.to_send()
    for sid in wave2:
        state.mark_sent(sid)  # the whole wave is in flight
    assert state.record("id-010", "unhealthy") == []  # 3 errors: within the budget
    assert state.step == "waiting"
    (halt,) = state.record("id-011", "failed")  # the 4th error
    assert halt["errors"] == 4 and state.halted
    assert state.record("id-012", "failed") == []  # in flight, tracked; no second halt record
    assert state.held == tuple(f"id-{i:03d}" for i in range(20, 40))
    view = state.snapshot()
    assert view.errors == 5 and view.budget == 3 and view.step == "halted"
    assert [c.held for c in view.waves] == [0, 0, 10, 10]


def test_without_waves_a_budget_stops_new_submissions_in_the_one_wave() -> None:
    state = _state(10, Rollout(max_errors=1))
    state.start_wave()
    for sid in ("id-000", "id-001"):
        state.mark_sent(sid)
        state.record(sid, "failed")
    assert state.halted and not state.may_send("id-002")
    assert state.counts()[0].held == 8
    unbounded = _state(10, Rollout())
    unbounded.start_wave()
    assert _finish_wave(unbounded, {f"id-{i:03d}": "failed" for i in range(10)}) == []
    assert unbounded.step == "done" and unbounded.budget is None


def test_pause_between_waves_waits_for_approval() -> None:
    state = _state(5, Rollout(waves=[1, 2], pause_between_waves=True))
    state.start_wave()  # the confirmation approved the first wave
    _finish_wave(state)
    assert state.step == "approval"
    with pytest.raises(RolloutStateError):
        state.start_wave()
    assert state.proceed() == [{"t": "approve", "after": "wave", "wave": 2}]
    assert state.step == "ready"
    state.start_wave()
    _finish_wave(state)
    assert state.step == "approval"


def test_proceed_after_a_halt_gives_a_fresh_budget_for_what_is_left() -> None:
    state = _state(27, Rollout(waves=[1, 10, "25%"], max_errors="10%"))  # budget 2 of 27
    state.start_wave()
    _finish_wave(state)
    state.start_wave()
    records = _finish_wave(state, {f"id-00{i}": "failed" for i in range(1, 4)})
    assert [r["t"] for r in records] == ["halt"] and state.step == "halted"
    # id-004 .. id-010 were never sent: the halt came first
    assert state.counts()[1].sent == 3 and state.counts()[1].held == 7
    (approve,) = state.proceed()
    assert approve == {
        "t": "approve",
        "after": "halt",
        "judged": ["id-001", "id-002", "id-003"],
        "budget": 2,
    }  # 10% of the 23 servers left, rounded down
    assert state.errors == 0 and state.step == "sending"
    assert state.to_send() == tuple(f"id-{i:03d}" for i in range(4, 11))  # wave 2 resumes
    with pytest.raises(RolloutStateError, match="nothing to proceed"):
        state.proceed()


def test_proceed_after_a_halt_at_a_boundary_also_approves_the_next_wave() -> None:
    state = _state(5, Rollout(waves=[1, 2], pause_between_waves=True))
    state.start_wave()
    _finish_wave(state, {"id-000": "unhealthy"})
    assert state.step == "halted"
    (approve,) = state.proceed()
    assert approve["wave"] == 2 and state.step == "ready"  # one Continue, not two
    replayed = RolloutState.replay([state.header(), {"t": "wave", "wave": 1}, approve])
    assert replayed is not None
    replayed.mark_sent("id-000")
    replayed.record("id-000", "unhealthy")
    assert replayed.step == "ready" and replayed.errors == 0


def test_outcomes_are_monotonic() -> None:
    state = _state(3, Rollout(waves=[3]))
    state.start_wave()
    with pytest.raises(RolloutStateError, match="never sent"):
        state.record("id-000", "succeeded")
    state.mark_sent("id-000")
    assert state.record("id-000", "succeeded") == []
    assert state.record("id-000", "succeeded") == []  # a repeat changes nothing
    with pytest.raises(RolloutStateError, match="already ended succeeded"):
        state.record("id-000", "failed")
    with pytest.raises(RolloutStateError, match="not in this plan"):
        state.record("nope", "failed")


def test_cancelled_rows_end_the_wave_without_spending_the_budget() -> None:
    state = _state(4, Rollout(waves=[2]))
    state.start_wave()
    state.mark_sent("id-000")
    state.record("id-000", "succeeded")
    state.record("id-001", "not_sent")  # cancelled before sending
    assert state.step == "ready" and state.errors == 0


def test_row_statuses_map_to_outcomes() -> None:
    assert outcome_of("SUCCESS") == "succeeded" and outcome_of(UNHEALTHY) == "unhealthy"
    assert outcome_of("FAIL") == "failed" and outcome_of("REFUSED") == "refused"
    assert outcome_of("UNCONFIRMED") == "unconfirmed" and outcome_of("NOT_SENT") == "not_sent"
    for status in ("PLANNED", "RUNNING", "VERIFYING", HELD, "SKIPPED"):
        assert outcome_of(status) is None


# -- the journal -------------------------------------------------------------------------------


def _journal(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records as the journal stores them: one JSON line each, with its own keys added."""
    lines = [json.dumps({"v": 1, "at": "2026-12-01T00:00:00.000Z", **r}) for r in records]
    return [json.loads(line) for line in lines]


def test_resume_after_a_crash_in_wave_two_continues_wave_two() -> None:
    state = _state(27, Rollout(waves=[1, 10, "25%"]))
    written = [state.header()]
    written += state.start_wave()
    for sid in state.to_send():
        state.mark_sent(sid)
        written += state.health(sid, True)
    written += state.start_wave()
    wave2 = state.to_send()
    for sid in wave2[:4]:  # 4 of 10 sent, 2 of them checked, then the process dies
        state.mark_sent(sid)
    for sid in wave2[:2]:
        written += state.health(sid, True)

    resumed = RolloutState.replay([*_journal(written), {"t": "row", "key": "x"}])
    assert resumed is not None and resumed.current == 2
    for sid in wave2[:4]:  # the job rows say these were sent
        resumed.mark_sent(sid)
    assert resumed.to_send() == wave2[4:]  # wave 2 goes on, not wave 3
    assert resumed.step == "sending" and resumed.snapshot() == state.snapshot()
    twice = RolloutState.replay(_journal(written) * 2)  # duplicated lines change nothing
    assert twice is not None and twice.current == 2 and twice.counts()[1].succeeded == 2


def test_replay_keeps_a_halt_and_its_proceed() -> None:
    state = _state(12, Rollout(waves=[2]))
    written = [state.header(), *state.start_wave()]
    state.mark_sent("id-000")
    state.mark_sent("id-001")
    written += state.health("id-000", False, "status ERROR")
    assert state.halted and written[-1]["t"] == "halt"
    assert "web-000: unhealthy (status ERROR)" in written[-1]["reason"]
    written += state.proceed()
    halted = RolloutState.replay(_journal(written[:-1]))
    assert halted is not None and halted.halt is not None
    assert halted.halt.reason == written[-2]["reason"]  # the same words after a restart
    resumed = RolloutState.replay(_journal(written))
    assert resumed is not None
    resumed.mark_sent("id-001")
    assert not resumed.halted and resumed.errors == 0 and resumed.budget == 0
    assert resumed.step == "waiting"
    unstaged = RolloutState.replay([{"t": "plan"}, {"t": "row", "key": "a"}])
    assert unstaged is None


def test_a_damaged_rollout_journal_is_refused() -> None:
    state = _state(12, Rollout(waves=[2]))
    header = state.header()
    with pytest.raises(RolloutStateError, match="wave 3 started before wave 1"):
        RolloutState.replay([header, {"t": "wave", "wave": 3}])
    with pytest.raises(RolloutStateError, match="damaged rollout record"):
        RolloutState.replay([{"t": "rollout", "rollout": {"waves": [0]}, "order": []}])
    with pytest.raises(RolloutStateError, match="damaged approve"):
        RolloutState.replay([header, {"t": "approve", "after": "lunch"}])


def test_rollout_records_live_in_the_run_journal_beside_its_rows(tmp_path: Path) -> None:
    """Written through the engine's Journal, read back by both replays: each keeps its own."""
    path = tmp_path / "run.jsonl"
    journal = Journal(path)
    state = _state(3, Rollout(waves=[1]))
    journal.write("plan", durable=False, expect=3)
    for sid, name in state.names.items():
        journal.write("row", durable=False, key=sid, server_id=sid, server_name=name)
    written = [state.header(), *state.start_wave()]
    state.mark_sent("id-000")
    written += state.health("id-000", False, "status ERROR")
    for record in written:
        journal.write(record["t"], durable=False, **{k: v for k, v in record.items() if k != "t"})
    journal.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    resumed = RolloutState.replay(lines)
    assert resumed is not None and resumed.current == 1 and resumed.halted
    assert resumed.held == ("id-001", "id-002")
    rows = replay(path)  # the job rows' replay is not confused by rollout records
    assert sorted(rows.records) == ["id-000", "id-001", "id-002"] and not rows.problems
