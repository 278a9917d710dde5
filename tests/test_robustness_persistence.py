"""The k-th tick score behind benchmarks/robustness/persistence.py."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from benchmarks.robustness.persistence import kth_scores
from benchmarks.robustness.worlds import World

TICKS = ["b", "a", "b", "a", "c", "b"]
P = np.array([0.2, 0.9, 0.7, 0.95, 0.5, 0.99])


def _world() -> World:
    accounts = pa.table({"account_id": ["a", "b", "c", "d"]})
    return World(accounts, pa.table({"account_id": TICKS}))


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (1, [0.95, 0.99, 0.5, 0.0]),  # the peak, as detect reports it
        (2, [0.9, 0.7, 0.0, 0.0]),  # c has one tick, d none
        (3, [0.0, 0.2, 0.0, 0.0]),
    ],
)
def test_the_kth_highest_tick_probability_per_account(k: int, expected: list[float]) -> None:
    assert kth_scores(_world(), P, k).tolist() == expected


def test_one_tick_is_the_peak_the_judge_scores() -> None:
    world = _world()
    assert kth_scores(world, P, 1).tolist() == world.combiner_scores(P).tolist()
