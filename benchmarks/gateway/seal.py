"""What sealing withheld thinking costs: per block sealed, per block restored, and the scan
every Anthropic request gets for sealed blocks (none found), timed call by call.

    .venv/bin/python -m benchmarks.gateway.seal
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from distillguard.gateway.reasoning_seal import ReasoningSeal

CALLS = 2000
SIZES = (1_000, 8_000, 32_000)  # characters of thinking: a short, a usual, a long block


def _median_us(call: Callable[[], Any], calls: int = CALLS) -> float:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2] * 1e6


def _conversation(turns: int) -> dict[str, Any]:
    """A request with no sealed block: what every Anthropic request is scanned for."""
    messages: list[dict[str, Any]] = []
    for i in range(turns):
        messages.append({"role": "user", "content": f"question {i}"})
        messages.append({"role": "assistant", "content": [{"type": "text", "text": "answer"}]})
    return {"messages": messages}


def main() -> None:
    seal = ReasoningSeal.generate()
    for size in SIZES:
        block = {"type": "thinking", "thinking": "x" * size, "signature": "s" * 400}
        withheld = {"type": "thinking", "thinking": "[w]", "signature": seal.seal(block, "acct")}
        sealed_us = _median_us(partial(seal.seal, block, "acct"))
        opened_us = _median_us(partial(seal.open_one, withheld, "acct"))
        print(f"{size:>6,} characters: seal {sealed_us:.0f} us, restore {opened_us:.0f} us, "
              f"signature {len(withheld['signature']):,} characters")  # fmt: skip
    for turns in (1, 20):
        body = _conversation(turns)
        scanned_us = _median_us(partial(seal.restore_many, body, "acct"))
        print(f"scan, {turns} turn(s), nothing sealed: {scanned_us:.1f} us")


if __name__ == "__main__":
    main()
