"""Follow a running ``ecs-notebook`` process through its progress lines on stderr."""

from __future__ import annotations

import re
import subprocess

NOT_SENT_YET = ("PLANNED", "SUBMITTING")  # not sent, or sent with no answer yet


def sent_so_far(line: str) -> int | None:
    """How many reinstalls a ``progress: N/M servers ...`` line says were sent (or None)."""
    found = re.match(r"progress: [\d,]+/([\d,]+) ", line)
    if found is None:
        return None
    counts = {k: int(v.replace(",", "")) for k, v in re.findall(r"([A-Z_]+) ([\d,]+)", line)}
    return int(found.group(1).replace(",", "")) - sum(counts.get(s, 0) for s in NOT_SENT_YET)


def wait_until_sent(proc: subprocess.Popen[str], n: int) -> None:
    """Block until the process's progress lines say ``n`` reinstalls were sent.

    pytest-timeout guards a hang; a process that ends first fails the test.
    """
    assert proc.stderr is not None
    for line in proc.stderr:
        sent = sent_so_far(line)
        if sent is not None and sent >= n:
            return
    raise AssertionError("the run ended before sending enough")
