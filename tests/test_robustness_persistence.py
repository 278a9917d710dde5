"""The k-th tick score behind benchmarks/robustness/persistence.py."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from benchmarks.robustness.persistence import kth_scores
from benchmarks.robustness.worlds import World

from distillguard.scoring.followers import FollowRule

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


def _linked_world() -> World:
    """Two ticks; a, b and c linked in group 0 at both; d alone."""
    accounts = pa.table({"account_id": ["a", "b", "c", "d"]})
    ticks = pa.table(
        {
            "account_id": ["a", "b", "c", "d"] * 2,
            "tick": [1, 1, 1, 1, 2, 2, 2, 2],
            "cluster": [0, 0, 0, -1] * 2,
        }
    )
    return World(accounts, ticks)


RULE = FollowRule(min_flagged=1, min_share=0.3, floor=0.8)


@pytest.mark.parametrize(
    ("p", "k", "expected"),
    [
        # a crosses at both ticks and b follows; d crosses once, alone
        ([0.99, 0.85, 0.1, 0.99, 0.99, 0.85, 0.1, 0.2], 1, [True, True, False, True]),
        ([0.99, 0.85, 0.1, 0.99, 0.99, 0.85, 0.1, 0.2], 2, [True, True, False, False]),
        # a crosses once: with two ticks nobody is flagged, so nobody follows
        ([0.99, 0.85, 0.1, 0.2, 0.5, 0.85, 0.1, 0.2], 2, [False, False, False, False]),
    ],
)
def test_flags_at_the_kth_tick_with_followers(p: list[float], k: int, expected: list[bool]) -> None:
    assert _linked_world().combiner_flagged(np.array(p), 0.95, RULE, k).tolist() == expected
