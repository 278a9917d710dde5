"""An account's score with the combiner deciding: the k-th highest of its tick
probabilities, a row with strong outside evidence (a peer's indicators) counting as k
ticks."""

from __future__ import annotations

import numpy as np
import pytest

from distillguard.detect.boost import BOOST_STRENGTH, STAND_IN_STRENGTH, stands_in
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


@pytest.mark.parametrize(
    ("k", "second", "changed"),
    [
        (1, [0.5, 0.85], [1]),  # a's peak stands, b's rises
        (2, [0.5, 0.85], [0, 1]),  # both second-highest probabilities change
        (2, [0.0, 0.0], []),  # nothing above the second-highest (0 after one tick)
    ],
)
def test_only_rows_whose_score_can_change_are_returned(
    k: int, second: list[float], changed: list[int]
) -> None:
    state = ReplayState()
    ids, none = ["a", "b"], np.array([False, False])
    assert sustained_rose(state, ids, np.array([0.9, 0.8]), k, none) == [0, 1]
    assert sustained_rose(state, ids, np.array(second), k, none) == changed
    assert state.peak_of("a") == 0.9 and state.learned_peak == {"a": 0.9, "b": max(0.8, second[1])}


@pytest.mark.parametrize(
    ("strengths", "expected"),
    [
        (None, [False, False]),  # no peer's indicators given
        ([0.0, 0.5], [False, False]),  # no match; a near-duplicate band at full confidence
        ([STAND_IN_STRENGTH - 0.01, STAND_IN_STRENGTH], [False, True]),
        ([0.95, 0.86], [True, True]),  # exact template or payment matches
    ],
)
def test_only_a_strong_match_stands_in_for_the_ticks(
    strengths: list[float] | None, expected: list[bool]
) -> None:
    arrays = {} if strengths is None else {BOOST_STRENGTH: np.array(strengths)}
    assert stands_in(arrays, 2).tolist() == expected
