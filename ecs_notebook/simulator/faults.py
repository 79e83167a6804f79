"""Faults on demand: error answers, throttling, dropped connections and slow answers."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

#: Kinds that are not HTTP statuses.
DROPS: Final = ("reset", "lost", "slow")
#: ECS-shaped refusals answered without processing (contract 3.2): status, message.
ECS_FAULTS: Final = {
    "Common.0024": (202, "Flow limit exceeded, please try again later."),
    "Common.1503": (429, "The API flow control threshold has been reached."),
    "Common.0001": (500, "System exception."),
}
#: Processed first, then answered with a 5xx: the POST's outcome is unknown to the caller.
LATE: Final = ("late500", "late504")
DEFAULT_SLOW_SECONDS: Final = 3.0
_HELP: Final = (
    "a fault spec is a comma-separated list of KIND=SHARE, where KIND is 429 or a 5xx status "
    "(500-599, gateway-shaped), Common.0024 (HTTP 202), Common.1503 (429), Common.0001 (500, "
    "ECS-shaped), late500 or late504 (processed, then 500/504), reset, lost or slow, and SHARE "
    "a fraction of requests between 0 and 1; slow_seconds=S sets the delay of slow answers "
    "(e.g. '500=0.1,Common.0024=0.05,late500=0.02,reset=0.02')"
)


def _check_kind(kind: str) -> str:
    if kind in DROPS or kind in ECS_FAULTS or kind in LATE:
        return kind
    if kind.isdigit() and (kind == "429" or 500 <= int(kind) <= 599) and len(kind) == 3:
        return kind
    raise ValueError(f"unknown fault kind {kind!r}: {_HELP}")


@dataclass(frozen=True)
class FaultSpec:
    """Shares of requests that get each fault (each drawn once per ECS request).

    ``429`` and ``5xx`` answer at once without processing, gateway-shaped; ``Common.0024``
    (HTTP 202), ``Common.1503`` (429) and ``Common.0001`` (500) likewise, ECS-shaped;
    ``late500`` (ECS ``Common.0001``) and ``late504`` (gateway ``APIGW.0201``) process the
    request and then answer that error instead; ``reset`` drops the connection before
    processing; ``lost`` processes the request, then drops the connection instead of
    answering; ``slow`` processes it and answers after ``slow_seconds``.
    """

    shares: Mapping[str, float] = field(default_factory=dict)
    slow_seconds: float = DEFAULT_SLOW_SECONDS

    def __post_init__(self) -> None:
        clean: dict[str, float] = {}
        for kind, share in self.shares.items():
            kind = _check_kind(str(kind))
            share = float(share)
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"the share of {kind} must be between 0 and 1 (got {share:g})")
            clean[kind] = share
        total = sum(clean.values())
        if total > 1.0 + 1e-9:
            raise ValueError(f"the fault shares add up to {total:g}, more than 1")
        if self.slow_seconds < 0:
            raise ValueError("slow_seconds must not be negative")
        object.__setattr__(self, "shares", dict(sorted(clean.items())))

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Parse ``"500=0.10,503=0.02,429=0.05,reset=0.02,lost=0.01,slow=0.01"``.

        Raises ``ValueError`` with a message that explains the format.
        """
        shares: dict[str, float] = {}
        slow = DEFAULT_SLOW_SECONDS
        for raw in text.split(","):
            item = raw.strip()
            if not item:
                continue
            kind, sep, value = (s.strip() for s in item.partition("="))
            if not sep or not kind or not value:
                raise ValueError(f"bad fault {item!r}: {_HELP}")
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"bad number {value!r} for {kind}: {_HELP}") from None
            if kind == "slow_seconds":
                slow = number
                continue
            kind = _check_kind(kind)
            if kind in shares:
                raise ValueError(f"fault {kind} is given twice")
            shares[kind] = number
        return cls(shares, slow)

    def __str__(self) -> str:
        items = [f"{kind}={share:g}" for kind, share in self.shares.items()]
        if "slow" in self.shares:
            items.append(f"slow_seconds={self.slow_seconds:g}")
        return ",".join(items)

    def __bool__(self) -> bool:
        return any(share > 0 for share in self.shares.values())


class FaultInjector:
    """Draws at most one fault per request from a seeded random generator (thread-safe)."""

    def __init__(self, spec: FaultSpec | None = None, seed: int = 0) -> None:
        self.spec = spec or FaultSpec()
        self._rng = random.Random(f"faults:{seed}")
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        """The fault for the next request (``"500"``, ``"reset"`` ...) or ``None``."""
        spec = self.spec
        if not spec:
            return None
        with self._lock:
            roll = self._rng.random()
        for kind, share in spec.shares.items():
            if roll < share:
                return kind
            roll -= share
        return None
