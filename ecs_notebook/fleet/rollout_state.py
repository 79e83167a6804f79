"""The live state of a staged run: which wave, what each wave did, and whether to go on.

:class:`RolloutState` is a pure state machine. The engine feeds it what happens to each
server (sent, then one final :data:`Outcome`) and asks it one question before every POST
(:meth:`~RolloutState.may_send`) and one at every wave boundary (:attr:`~RolloutState.step`).
Every change it makes returns the journal records that describe it (JSON-ready dicts whose
``"t"`` is the record kind, the journal's own line shape), and :meth:`RolloutState.replay`
rebuilds the state from them, so a run resumed after a crash goes on in the wave it was in.
Replay is idempotent: a record seen twice changes nothing.

Records: ``rollout`` (the settings and the plan order, first), ``wave`` (a wave started),
``health`` (a health check's verdict), ``halt`` (the budget was passed: for the reader; the
halt itself follows from the outcomes) and ``approve`` (the operator let the next wave start,
or proceeded after a halt with a fresh budget for what was left). Job outcomes are not
written here: the job rows already hold them, and the engine feeds them again on resume.

Not thread-safe by itself: the engine calls it under its own lock; :meth:`snapshot` gives
views a consistent copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from ..model.servers import Server
from .records import CHANGED, FAIL, NOT_SENT, REFUSED, SUCCESS, UNCONFIRMED, UNHEALTHY
from .rollout import Rollout, plan_order

#: What finally happened to one server of the plan.
Outcome = Literal["succeeded", "failed", "unhealthy", "refused", "unconfirmed", "not_sent"]
OUTCOMES: Final[tuple[str, ...]] = get_args(Outcome)
#: Outcomes that spend the error budget: a failed job, a server that failed its health check,
#: a refusal (pre-flight skips are never in the plan) and a reinstall nobody can confirm.
ERROR_OUTCOMES: Final = frozenset({"failed", "unhealthy", "refused", "unconfirmed"})

_OUTCOME_OF_STATUS: Final[dict[str, Outcome]] = {
    SUCCESS: "succeeded",
    FAIL: "failed",
    UNHEALTHY: "unhealthy",
    REFUSED: "refused",
    UNCONFIRMED: "unconfirmed",
    NOT_SENT: "not_sent",
    CHANGED: "not_sent",  # not sent on resume (changed since the plan): not an error
}

#: Where a staged run stands. ``sending``: servers of the current wave are still to be sent;
#: ``waiting``: all sent, some not finished; ``approval``: the wave passed and the operator
#: must approve the next; ``ready``: the next wave may start (after the bake time);
#: ``halted``: the error budget was passed; ``done``: every wave finished.
Step = Literal["sending", "waiting", "approval", "ready", "halted", "done"]


def outcome_of(status: str) -> Outcome | None:
    """The outcome a final row status stands for; ``None`` while the row is not final."""
    return _OUTCOME_OF_STATUS.get(status)


class RolloutStateError(ValueError):
    """The engine asked for something the state does not allow, or a record is damaged."""


@dataclass(frozen=True)
class WaveCounts:
    """What one wave did. ``failed`` includes refused and unconfirmed; ``held`` were not sent."""

    number: int
    size: int
    sent: int
    succeeded: int
    unhealthy: int
    failed: int
    held: int
    started: bool

    @property
    def finished(self) -> int:
        """Servers of the wave with a final outcome."""
        return self.succeeded + self.unhealthy + self.failed

    def line(self) -> str:
        """The summary's line: ``10 sent, 9 succeeded, 1 unhealthy, 0 failed, 0 held``."""
        return (
            f"{self.sent:,} sent, {self.succeeded:,} succeeded, {self.unhealthy:,} unhealthy, "
            f"{self.failed:,} failed, {self.held:,} held"
        )


@dataclass(frozen=True)
class Halt:
    """Why a run halted: the error budget was passed in ``wave``."""

    wave: int
    errors: int
    budget: int
    culprits: tuple[str, ...]  # "name: outcome" of the errors that count, in plan order

    @property
    def reason(self) -> str:
        """The banner text."""
        shown = "; ".join(self.culprits[:5]) + ("; …" if len(self.culprits) > 5 else "")
        return (
            f"halted in wave {self.wave}: {self.errors:,} error{'s' if self.errors != 1 else ''} "
            f"passed the budget of {self.budget:,} ({shown}); nothing new is sent"
        )


@dataclass(frozen=True)
class RolloutView:
    """A consistent copy of a staged run's state, for views and summaries."""

    step: Step
    wave: int  # the current wave (1-based), 0 before the first
    waves: tuple[WaveCounts, ...]
    errors: int
    budget: int | None
    halt: Halt | None
    held: tuple[str, ...]
    staging: str


class RolloutState:
    """Waves, error budget and approvals of one staged run (see the module docstring)."""

    def __init__(self, rollout: Rollout, order: Sequence[tuple[str, str]]) -> None:
        """``order``: ``(server_id, name)`` pairs in plan order (see :meth:`for_plan`)."""
        ids = [sid for sid, _ in order]
        if len(set(ids)) != len(ids):
            raise RolloutStateError("a server appears twice in the plan order")
        self.rollout = rollout
        self.names: dict[str, str] = dict(order)
        self.order: tuple[str, ...] = tuple(ids)
        self.waves: tuple[tuple[str, ...], ...] = tuple(tuple(w) for w in rollout.split(ids))
        self._wave_of = {sid: i for i, wave in enumerate(self.waves) for sid in wave}
        self.current = 0  # waves started (the current wave is number ``current``)
        self._sent: set[str] = set()
        self._outcomes: dict[str, Outcome] = {}
        self._details: dict[str, str] = {}  # what went wrong, for the halt reason
        self._judged: set[str] = set()  # errors the operator has proceeded past
        self._approved: set[int] = set()  # wave numbers approved to start
        self._budget = rollout.budget(len(ids))
        self._counts = [[0, 0, 0, 0] for _ in self.waves]  # sent, succeeded, unhealthy, failed
        self._error_count = 0  # errors that count (not judged)
        self._unsent = 0  # servers of started waves not sent yet
        self._unfinished = 0  # servers of started waves without an outcome

    @classmethod
    def for_plan(cls, rollout: Rollout, servers: Iterable[Server]) -> RolloutState:
        """The state for a plan's targets, taken in plan order (by name, then id)."""
        return cls(rollout, [(s.id, s.name) for s in plan_order(servers)])

    # -- questions ---------------------------------------------------------------------------

    @property
    def budget(self) -> int | None:
        """Errors allowed before the run halts (``None``: no budget)."""
        return self._budget

    @property
    def errors(self) -> int:
        """Errors that count against the budget (not those already proceeded past)."""
        return self._error_count

    @property
    def halted(self) -> bool:
        """True once the errors that count have passed the budget."""
        return self._budget is not None and self._error_count > self._budget

    @property
    def halt(self) -> Halt | None:
        """Why the run halted, or ``None`` while it may go on."""
        if not self.halted or self._budget is None:
            return None
        errors = self._error_count
        culprits = tuple(
            f"{self.names.get(sid) or sid}: {self._outcomes[sid]}"
            + (f" ({self._details[sid]})" if self._details.get(sid) else "")
            for sid in self.order
            if self._outcomes.get(sid) in ERROR_OUTCOMES and sid not in self._judged
        )
        return Halt(max(1, self.current), errors, self._budget, culprits)

    @property
    def step(self) -> Step:
        """Where the run stands (see :data:`Step`)."""
        if self.halted:
            return "halted"
        if self._unsent:
            return "sending"
        if self._unfinished:
            return "waiting"
        if self.current >= len(self.waves):
            return "done"
        nxt = self.current + 1
        if nxt > 1 and self.rollout.pause_between_waves and nxt not in self._approved:
            return "approval"
        return "ready"

    def may_send(self, server_id: str) -> bool:
        """True when ``server_id`` may be submitted now: in a started wave, not sent, no halt."""
        wave = self._wave_of.get(server_id)
        return (
            wave is not None
            and wave < self.current
            and server_id not in self._sent
            and not self.halted
        )

    def was_sent(self, server_id: str) -> bool:
        """True once ``server_id`` was marked sent (or ended without being sent)."""
        return server_id in self._sent

    def to_send(self) -> tuple[str, ...]:
        """The servers that may be submitted now, in plan order."""
        if self.halted:
            return ()
        started = self.waves[: self.current]
        return tuple(sid for wave in started for sid in wave if sid not in self._sent)

    @property
    def held(self) -> tuple[str, ...]:
        """Servers not sent because the run halted (empty while it may go on)."""
        if not self.halted:
            return ()
        return tuple(sid for sid in self.order if sid not in self._sent)

    def counts(self) -> tuple[WaveCounts, ...]:
        """What each wave did so far."""
        held = set(self.held)
        result = []
        for i, wave in enumerate(self.waves):
            sent, ok, bad, failed = self._counts[i]
            result.append(
                WaveCounts(
                    number=i + 1,
                    size=len(wave),
                    sent=sent,
                    succeeded=ok,
                    unhealthy=bad,
                    failed=failed,
                    held=sum(1 for sid in wave if sid in held),
                    started=i < self.current,
                )
            )
        return tuple(result)

    def describe(self) -> str:
        """The staging line: ``27 servers in 5 waves: 1, 10, 7, 7, 2``."""
        return self.rollout.describe(len(self.order))

    def snapshot(self) -> RolloutView:
        """A consistent copy for a view."""
        return RolloutView(
            step=self.step,
            wave=self.current,
            waves=self.counts(),
            errors=self.errors,
            budget=self._budget,
            halt=self.halt,
            held=self.held,
            staging=self.describe(),
        )

    # -- changes (each returns the journal records to write) --------------------------------

    def header(self) -> dict[str, Any]:
        """The first record of a staged run: its settings and plan order."""
        return {
            "t": "rollout",
            "rollout": self.rollout.to_dict(),
            "order": [[sid, self.names.get(sid, "")] for sid in self.order],
        }

    def start_wave(self) -> list[dict[str, Any]]:
        """Start the next wave (only when :attr:`step` is ``ready``)."""
        if self.step != "ready":
            raise RolloutStateError(f"the next wave cannot start now (the run is {self.step})")
        wave = self._open_next_wave()
        return [{"t": "wave", "wave": self.current, "size": len(wave), "servers": list(wave)}]

    def mark_sent(self, server_id: str) -> list[dict[str, Any]]:
        """``server_id`` is being submitted (call it before the POST, once :meth:`may_send`)."""
        if server_id in self._sent:
            return []
        if not self.may_send(server_id):
            raise RolloutStateError(f"server {server_id} may not be sent now ({self.step})")
        self._sent.add(server_id)
        self._counts[self._wave_of[server_id]][0] += 1
        self._unsent -= 1
        return []

    def _open_next_wave(self) -> tuple[str, ...]:
        self.current += 1
        wave = self.waves[self.current - 1]
        self._unsent += sum(1 for sid in wave if sid not in self._sent)
        self._unfinished += sum(1 for sid in wave if sid not in self._outcomes)
        return wave

    def record(self, server_id: str, outcome: Outcome, detail: str = "") -> list[dict[str, Any]]:
        """The final outcome of a sent server; a ``halt`` record when it passes the budget.

        ``detail`` (an error code, what the health check saw) goes into the halt reason.
        The same outcome again changes nothing; a different one is refused.
        """
        if outcome not in OUTCOMES:
            raise RolloutStateError(f"unknown outcome {outcome!r}")
        wave = self._wave_of.get(server_id)
        if wave is None:
            raise RolloutStateError(f"server {server_id} is not in this plan")
        seen = self._outcomes.get(server_id)
        if seen is not None:
            if seen != outcome:
                raise RolloutStateError(f"server {server_id} already ended {seen}, not {outcome}")
            return []
        started = wave < self.current
        if server_id not in self._sent:
            if outcome != "not_sent":
                raise RolloutStateError(f"server {server_id} has an outcome but was never sent")
            self._sent.add(server_id)  # cancelled: it will not be sent, nor held
            self._unsent -= started
        was_halted = self.halted
        self._outcomes[server_id] = outcome
        if detail:
            self._details[server_id] = detail
        self._unfinished -= started
        column = {"succeeded": 1, "unhealthy": 2, "not_sent": None}.get(outcome, 3)
        if column is not None:
            self._counts[wave][column] += 1
        if outcome in ERROR_OUTCOMES and server_id not in self._judged:
            self._error_count += 1
        halt = self.halt
        if halt is None or was_halted:
            return []
        return [
            {
                "t": "halt",
                "wave": halt.wave,
                "errors": halt.errors,
                "budget": halt.budget,
                "held": len(self.held),
                "reason": halt.reason,
            }
        ]

    def health(self, server_id: str, healthy: bool, seen: str = "") -> list[dict[str, Any]]:
        """A health check's verdict on a server whose job ended SUCCESS."""
        record = {"t": "health", "server_id": server_id, "healthy": healthy, "seen": seen}
        outcome: Outcome = "succeeded" if healthy else "unhealthy"
        return [record, *self.record(server_id, outcome, "" if healthy else seen)]

    def proceed(self) -> list[dict[str, Any]]:
        """Go on: after a halt with a fresh budget for what is left, or approve the next wave.

        After a halt the errors so far are judged by the operator and no longer count; the
        budget is worked out again over the servers not sent yet. A halt at a wave boundary
        with ``pause_between_waves`` is also the approval of the next wave.
        """
        step = self.step
        if step == "halted":
            judged = sorted(
                sid
                for sid, o in self._outcomes.items()
                if o in ERROR_OUTCOMES and sid not in self._judged
            )
            left = sum(1 for sid in self.order if sid not in self._sent)
            budget = self.rollout.budget(left)
            record = {"t": "approve", "after": "halt", "judged": judged, "budget": budget}
            if self.rollout.pause_between_waves and not self._unsent:
                record["wave"] = self.current + 1  # halted at a boundary: go on to the next
        elif step == "approval":
            record = {"t": "approve", "after": "wave", "wave": self.current + 1}
        else:
            raise RolloutStateError(f"nothing to proceed from: the run is {step}")
        self._apply_approve(record)
        return [record]

    # -- replay ---------------------------------------------------------------------------------

    @classmethod
    def replay(cls, records: Iterable[Mapping[str, Any]]) -> RolloutState | None:
        """Rebuild the state from journal records (other kinds are ignored); ``None`` when
        the journal has no ``rollout`` record (the run was not staged).

        Feed the job rows' outcomes (:meth:`mark_sent`, :meth:`record`) afterwards.
        """
        state: RolloutState | None = None
        for item in records:
            kind = item.get("t")
            if kind == "rollout":
                if state is None:
                    state = cls._from_header(item)
                continue
            if state is None or kind not in ("wave", "health", "approve"):
                continue
            state.apply(item)
        return state

    @classmethod
    def _from_header(cls, item: Mapping[str, Any]) -> RolloutState:
        try:
            rollout = Rollout.from_dict(item["rollout"])
            order = [(str(sid), str(name)) for sid, name in item["order"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise RolloutStateError(f"damaged rollout record: {exc}") from None
        return cls(rollout, order)

    def apply(self, item: Mapping[str, Any]) -> None:
        """Apply one ``wave``, ``health`` or ``approve`` record (a repeat changes nothing)."""
        kind = item.get("t")
        if kind == "wave":
            number = item.get("wave")
            if not isinstance(number, int) or not 1 <= number <= len(self.waves):
                raise RolloutStateError(f"damaged wave record: {dict(item)!r}")
            if number > self.current + 1:
                raise RolloutStateError(f"wave {number} started before wave {self.current + 1}")
            while self.current < number:
                self._open_next_wave()
        elif kind == "health":
            sid = item.get("server_id")
            if not isinstance(sid, str) or sid not in self._wave_of:
                raise RolloutStateError(f"damaged health record: {dict(item)!r}")
            if sid not in self._sent:
                self._resent(sid)
            healthy = bool(item.get("healthy"))
            self.record(sid, "succeeded" if healthy else "unhealthy", str(item.get("seen") or ""))
        elif kind == "approve":
            self._apply_approve(item)
        elif kind != "halt":
            raise RolloutStateError(f"not a rollout record: {kind!r}")

    def sent_before(self, server_id: str) -> None:
        """On resume: ``server_id`` was sent by an earlier process (halted or not since)."""
        if server_id not in self._sent:
            self._resent(server_id)

    def _resent(self, server_id: str) -> None:
        """A health record for a server not yet marked sent (replay order): it was sent."""
        wave = self._wave_of[server_id]
        if wave >= self.current:
            raise RolloutStateError(f"health record for {server_id} before its wave started")
        self._sent.add(server_id)
        self._counts[wave][0] += 1
        self._unsent -= 1

    def _apply_approve(self, item: Mapping[str, Any]) -> None:
        if item.get("after") == "halt":
            judged = item.get("judged")
            budget = item.get("budget")
            if not isinstance(judged, list) or not (budget is None or isinstance(budget, int)):
                raise RolloutStateError(f"damaged approve record: {dict(item)!r}")
            for sid in map(str, judged):
                if sid in self._judged:
                    continue
                self._judged.add(sid)
                if self._outcomes.get(sid) in ERROR_OUTCOMES:
                    self._error_count -= 1
            self._budget = budget
            if isinstance(item.get("wave"), int):
                self._approved.add(int(item["wave"]))
        elif item.get("after") == "wave" and isinstance(item.get("wave"), int):
            self._approved.add(int(item["wave"]))
        else:
            raise RolloutStateError(f"damaged approve record: {dict(item)!r}")
