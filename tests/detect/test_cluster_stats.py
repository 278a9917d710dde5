"""A cluster's capability mix: shares, largest first, ties by name (the same text on every
engine, whose rows come back in any order)."""

from __future__ import annotations

import pytest

from distillguard.detect.outputs import capability_mix
from distillguard.signals.capabilities import CAPABILITIES

CHAT, REASONING, AGENTIC, VISION = (
    CAPABILITIES.index(c) for c in ("chat", "reasoning", "agentic", "vision")
)
TIED = "chat 84%, agentic 8%, reasoning 8%"
# (case, exchanges per capability in the order the rows came, the mix)
MIXES = [
    ("a tie, rows in one order", {CHAT: 84, REASONING: 8, AGENTIC: 8}, TIED),
    ("a tie, rows in the other", {AGENTIC: 8, REASONING: 8, CHAT: 84}, TIED),
    ("under 2% left out", {CHAT: 99, VISION: 1}, "chat 99%"),
]


@pytest.mark.parametrize(("case", "counts", "mix"), MIXES, ids=[m[0] for m in MIXES])
def test_the_mix_is_largest_first_and_ties_by_name(
    case: str, counts: dict[int, int], mix: str
) -> None:
    assert capability_mix(counts) == mix, case
