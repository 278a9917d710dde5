"""Each account's own leanings within its population (simulate/individual.py): without
spread every account follows the population's knobs; with it, accounts differ."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from distillguard.simulate.archetypes import ARCHETYPES
from distillguard.simulate.individual import draw_leanings, output_scales, shares
from distillguard.simulate.randomize import randomize_behaviour

POWER = ARCHETYPES["power_user"]


def _task_shares(spread: float, accounts: int = 60, sessions: int = 400) -> np.ndarray:
    """(accounts, kinds) share of each account's sessions given to each task kind."""
    b = dataclasses.replace(POWER, mix_spread=spread)
    rng = np.random.default_rng(7)
    leanings = draw_leanings(b, accounts, rng)
    assert leanings is not None
    who = np.repeat(np.arange(accounts), sessions)
    kinds = np.asarray(leanings.kinds_of(b.task_mix, who, rng)).reshape(accounts, sessions)
    return np.stack([(kinds == k).mean(axis=1) for k in leanings.kinds], axis=1)


def test_no_spread_draws_nothing() -> None:
    assert draw_leanings(POWER, 10, np.random.default_rng(0)) is None


@pytest.mark.parametrize(
    ("which", "share", "factor", "expected"),
    [
        ("thinking", 0.5, 1.0, 0.5),
        ("thinking", 0.5, 3.0, 0.95),  # at most 0.95
        ("cot", 0.1, 2.0, 0.2),
        ("cot", 0.0, 5.0, 0.0),
    ],
)
def test_shares_follow_each_accounts_leaning(
    which: str, share: float, factor: float, expected: float
) -> None:
    leanings = draw_leanings(
        dataclasses.replace(POWER, mix_spread=0.5), 1, np.random.default_rng(0)
    )
    assert leanings is not None
    leaned = dataclasses.replace(leanings, thinking=np.array([factor]), cot=np.array([factor]))
    assert shares(leaned, share, np.array([0, 0]), which) == pytest.approx([expected, expected])


def test_without_leanings_every_account_gets_the_population_knob() -> None:
    assert shares(None, 0.3, np.arange(4), "cot").tolist() == [0.3] * 4
    assert output_scales(None, 1.6, np.arange(3)).tolist() == [1.6] * 3


def test_accounts_spread_apart_only_with_spread() -> None:
    tight, wide = _task_shares(0.05), _task_shares(1.0)
    # A binomial spread of 400 sessions is about 0.02; leanings add several times that.
    assert tight.std(axis=0).max() < 0.04
    assert wide.std(axis=0).max() > 0.08


def test_only_kinds_of_the_mix_are_drawn() -> None:
    b = dataclasses.replace(ARCHETYPES["agentic"], mix_spread=1.0)
    leanings = draw_leanings(b, 20, np.random.default_rng(3))
    assert leanings is not None
    assert "trace" in leanings.kinds  # from the late phase's mix
    early = leanings.kinds_of(b.task_mix, np.arange(20).repeat(50), np.random.default_rng(4))
    assert "trace" not in early and set(early) <= set(b.task_mix)


def test_randomized_worlds_draw_a_spread_for_every_population() -> None:
    drawn = [
        randomize_behaviour(b, np.random.default_rng(s))
        for s in range(20)
        for b in ARCHETYPES.values()
    ]
    spreads = np.array([b.mix_spread for b in drawn])
    assert spreads.min() >= 0.0 and spreads.max() <= 1.0 and spreads.std() > 0.2
