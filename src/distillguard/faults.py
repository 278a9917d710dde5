"""Named crash points, so the crash tests can kill a run at an exact step.

`DISTILLGUARD_CRASH_AT=NAME` (or `NAME:N`, the N-th time the point is reached) makes the
process SIGKILL itself there: no cleanup, no `finally`, exactly like a power cut or the OOM
killer. Unset (always, outside tests) a crash point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "DISTILLGUARD_CRASH_AT"
_reached: Counter[str] = Counter()


def crash_point(name: str) -> None:
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _reached[name] += 1
    if _reached[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
