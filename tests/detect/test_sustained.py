"""An account's score with the combiner deciding: the k-th highest of its tick
probabilities, a row with outside evidence (a peer's indicators) counting as k ticks."""

from __future__ import annotations

import numpy as np
import pytest

from distillguard.detect.decide import ReplayState, sustained_rose


def _scores(ticks: list[tuple[float, bool]], k: int) -> list[float]:
    """One account's score after each tick of (probability, outside evidence?)."""
    state, out = ReplayState(), []
    for p, outside in ticks:
        sustained_rose(state, ["a"], np.array([p]), k, np.array([outside]))
        out.append(state.learned_score["a"])
    return out


@pytest.mark.parametrize(
    ("ticks", "k", "expected"),
    [
        ([(0.5, False), (0.9, False), (0.7, False)], 1, [0.5, 0.9, 0.9]),  # the peak
        ([(0.5, False), (0.9, False), (0.7, False)], 2, [0.0, 0.5, 0.7]),  # the second
        ([(0.99, False), (0.1, False), (0.1, False)], 2, [0.0, 0.1, 0.1]),  # one odd tick
        ([(0.99, True), (0.1, False)], 2, [0.99, 0.99]),  # a peer's match stands in
        ([(0.5, False), (0.9, True), (0.95, False)], 3, [0.0, 0.9, 0.9]),
    ],
)
def test_the_kth_highest_tick_probability(
    ticks: list[tuple[float, bool]], k: int, expected: list[float]
) -> None:
    assert _scores(ticks, k) == expected


def test_only_rows_whose_score_can_change_are_returned() -> None:
    state = ReplayState()
    ids, none = ["a", "b"], np.array([False, False])
    assert sustained_rose(state, ids, np.array([0.9, 0.8]), 1, none) == [0, 1]
    assert sustained_rose(state, ids, np.array([0.5, 0.85]), 1, none) == [1]
