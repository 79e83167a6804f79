"""How a fleet run is staged: wave sizes, the error budget, bake time and the health check.

The words are the ones operators already know. Wave sizes have Ansible's ``serial``
meaning: a count, or a percentage of the whole plan (rounded up, at least 1), the last size
repeating until the plan is done. The error budget has AWS Systems Manager's ``MaxErrors``
meaning: with ``max_errors=3`` the fourth error halts the run (nothing new is sent, what is
in flight is tracked to the end). Pure: no I/O. The live state of a staged run is
:class:`~ecs_notebook.fleet.rollout_state.RolloutState`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Final, TypeVar

from ..model.problems import Problem, ValidationError
from ..model.servers import Server

#: A wave size or an error budget: a count (``10``) or a percentage of the plan (``"25%"``).
Amount = int | str

#: Wave sizes shown in full in the staging text up to this many waves; past it, runs of one
#: size are shortened to ``25 ×38``.
SHOWN_WAVES: Final = 10

T = TypeVar("T")


class RolloutError(ValidationError):
    """A rollout setting is invalid; ``problems`` name each field (``waves``, ``max_errors``...)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        super().__init__(problems)
        self.args = ("invalid rollout: " + "; ".join(str(p) for p in self.problems),)


# -- one rule for each kind of amount -----------------------------------------------------


def _percent(text: str) -> Fraction | None:
    """The number before ``%`` as an exact fraction, or None when it is not a number."""
    try:
        value = Decimal(text[:-1].strip())
    except InvalidOperation:
        return None
    return Fraction(value) if value.is_finite() else None


def parse_amount(value: object, *, what: str, minimum: int) -> Amount:
    """A count (``minimum`` or more) or a percentage (``"P%"``, up to 100), in canonical form.

    Counts come back as ``int``, percentages as text (``"25%"``, ``"2.5%"``). Raises
    ``ValueError`` with a message that says what was wrong (``what`` names the setting).
    """
    expected = (
        f"{what} must be a whole number of at least {minimum} or a percentage like 25%"
        if minimum
        else f"{what} must be a whole number (0 or more) or a percentage like 2%"
    )
    if isinstance(value, bool):
        raise ValueError(f"{expected}, not {value!r}")
    if isinstance(value, int):
        if value < minimum:
            raise ValueError(f"{expected}, not {value}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{expected}, not {value!r}")
    text = value.strip()
    if not text:
        raise ValueError(f"{expected}; it is empty")
    if text.endswith("%"):
        pct = _percent(text)
        if pct is None:
            raise ValueError(f"{expected}, not {text!r}")
        low_ok = pct > 0 if minimum else pct >= 0
        if not low_ok or pct > 100:
            low = "more than 0" if minimum else "0"
            raise ValueError(f"a percentage for {what} must be {low} to 100%, not {text!r}")
        return f"{Decimal(text[:-1].strip()).normalize():f}%"
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{expected}, not {text!r}")
    count = int(text)
    if count < minimum:
        raise ValueError(f"{expected}, not {text!r}")
    return count


def _of(amount: Amount, total: int, *, round_up: bool) -> int:
    """An amount as a number of servers of a plan of ``total``."""
    if isinstance(amount, int):
        return amount
    share = Fraction(amount[:-1]) * total / 100
    return math.ceil(share) if round_up else math.floor(share)


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",")]


# -- the value ------------------------------------------------------------------------------


@dataclass(frozen=True, init=False)
class Rollout:
    """How a fleet run is staged.

    ``waves`` are sizes (counts or percentages of the plan, Ansible ``serial`` meaning); none
    means one wave of the whole plan. ``max_errors`` is the error budget (a count or a
    percentage of the plan, SSM ``MaxErrors`` meaning); with waves and no budget, the budget
    is 0. ``bake`` is seconds to wait after a wave has passed; ``verify`` turns the health
    check after each job's SUCCESS on; ``pause_between_waves`` asks before each new wave.
    Invalid settings raise :class:`RolloutError` naming every bad field at once.
    """

    waves: tuple[Amount, ...] = ()
    max_errors: Amount | None = None
    bake: float = 0.0
    verify: bool = True
    pause_between_waves: bool = False

    def __init__(
        self,
        waves: Sequence[Amount] | str | None = None,
        max_errors: Amount | None = None,
        bake: float = 0.0,
        verify: bool = True,
        pause_between_waves: bool = False,
    ) -> None:
        problems: list[Problem] = []
        sizes: tuple[Amount, ...] = ()
        if isinstance(waves, str):
            waves = _split_list(waves) if waves.strip() else [""]
        if waves is not None:
            if not isinstance(waves, Sequence) or not waves:
                problems.append(Problem("waves", "give at least one wave size, like 1,10,25%"))
            else:
                try:
                    sizes = tuple(
                        parse_amount(w, what=f"wave size {i}", minimum=1)
                        for i, w in enumerate(waves, 1)
                    )
                except ValueError as exc:
                    problems.append(Problem("waves", str(exc)))
        budget: Amount | None = None
        if max_errors is not None:
            try:
                budget = parse_amount(max_errors, what="max errors", minimum=0)
            except ValueError as exc:
                problems.append(Problem("max_errors", str(exc)))
        bake_s = 0.0
        if isinstance(bake, bool) or not isinstance(bake, (int, float)):
            problems.append(Problem("bake", f"bake must be a number of seconds, not {bake!r}"))
        elif not math.isfinite(bake) or bake < 0:
            problems.append(Problem("bake", f"bake must be 0 or more seconds, not {bake!r}"))
        else:
            bake_s = float(bake)
        for name, flag in (("verify", verify), ("pause_between_waves", pause_between_waves)):
            if not isinstance(flag, bool):
                problems.append(Problem(name, f"{name} must be True or False, not {flag!r}"))
        if problems:
            raise RolloutError(problems)
        object.__setattr__(self, "waves", sizes)
        object.__setattr__(self, "max_errors", budget)
        object.__setattr__(self, "bake", bake_s)
        object.__setattr__(self, "verify", verify)
        object.__setattr__(self, "pause_between_waves", pause_between_waves)

    @property
    def staged(self) -> bool:
        """True when the run goes in waves (``waves`` given)."""
        return bool(self.waves)

    def wave_sizes(self, total: int) -> list[int]:
        """The size of each wave for a plan of ``total`` servers; they sum to ``total``.

        >>> Rollout(waves=[1, 10, "25%"]).wave_sizes(27)
        [1, 10, 7, 7, 2]
        """
        if total < 0:
            raise ValueError("a plan cannot have fewer than 0 servers")
        if not self.waves:
            return [total] if total else []
        sizes: list[int] = []
        left = total
        while left > 0:
            spec = self.waves[min(len(sizes), len(self.waves) - 1)]
            size = min(max(1, _of(spec, total, round_up=True)), left)
            sizes.append(size)
            left -= size
        return sizes

    def budget(self, total: int) -> int | None:
        """How many errors a plan of ``total`` servers may have before the run halts.

        ``None`` means no budget (not staged, no ``max_errors``). A percentage is of the
        plan, rounded down (the safe side: 2% of 27 servers allows 0 errors).
        """
        if self.max_errors is None:
            return 0 if self.waves else None
        return _of(self.max_errors, total, round_up=False)

    def split(self, servers: Iterable[T], total: int | None = None) -> list[list[T]]:
        """``servers`` (already in plan order) cut into waves."""
        items = list(servers)
        sizes = self.wave_sizes(len(items) if total is None else total)
        waves: list[list[T]] = []
        start = 0
        for size in sizes:
            waves.append(items[start : start + size])
            start += size
        return waves

    def describe(self, total: int) -> str:
        """The one line the confirmation shows: ``27 servers in 5 waves: 1, 10, 7, 7, 2``."""
        sizes = self.wave_sizes(total)
        noun = "server" if total == 1 else "servers"
        if not self.waves:
            return f"{total:,} {noun} in one wave (not staged)"
        waves = "wave" if len(sizes) == 1 else "waves"
        return f"{total:,} {noun} in {len(sizes):,} {waves}: {_list_sizes(sizes)}"

    def describe_budget(self, total: int) -> str:
        """The error budget in words: ``halts at the 4th error (max errors 3)``."""
        budget = self.budget(total)
        if budget is None:
            return "no error budget: every server is sent whatever fails"
        given = "" if self.max_errors is None else f" (max errors {self.max_errors})"
        if budget == 0:
            return f"halts at the first error{given}"
        return f"halts at error {budget + 1:,}, allows {budget:,}{given}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the journal; :meth:`from_dict` reads it back."""
        return {
            "waves": list(self.waves),
            "max_errors": self.max_errors,
            "bake": self.bake,
            "verify": self.verify,
            "pause_between_waves": self.pause_between_waves,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rollout:
        """The rollout :meth:`to_dict` wrote (validated again)."""
        waves = data.get("waves") or None
        return cls(
            waves=waves,
            max_errors=data.get("max_errors"),
            bake=data.get("bake", 0.0),
            verify=data.get("verify", True),
            pause_between_waves=data.get("pause_between_waves", False),
        )


def _list_sizes(sizes: Sequence[int]) -> str:
    if len(sizes) <= SHOWN_WAVES:
        return ", ".join(f"{s:,}" for s in sizes)
    parts: list[str] = []
    i = 0
    while i < len(sizes):
        j = i
        while j < len(sizes) and sizes[j] == sizes[i]:
            j += 1
        run = j - i
        parts.append(f"{sizes[i]:,} ×{run:,}" if run > 2 else ", ".join([f"{sizes[i]:,}"] * run))
        i = j
    return ", ".join(parts)


def plan_order(servers: Iterable[Server]) -> list[Server]:
    """Servers in the order waves take them: by name, then id."""
    return sorted(servers, key=lambda s: (s.name, s.id))
