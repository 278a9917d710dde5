"""Each account's own leanings within its population (simulate/individual.py): without
spread every account follows the population's knobs; with it, accounts differ."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from distillguard.simulate.accounts import AccountBlock, make_accounts
from distillguard.simulate.archetypes import ARCHETYPES
from distillguard.simulate.config import PopulationPlan, load_preset, plan
from distillguard.simulate.content.compose import GrammarSource
from distillguard.simulate.individual import draw_leanings, output_scales, shares
from distillguard.simulate.randomize import randomize_behaviour
from distillguard.simulate.traffic import day_table

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


def test_a_narrow_spread_keeps_the_populations_mix() -> None:
    mix = POWER.task_mix
    leanings_kinds = sorted(set(mix))
    shares_ = _task_shares(0.05).mean(axis=0)
    for kind, share in zip(leanings_kinds, shares_.tolist(), strict=True):
        assert share == pytest.approx(mix[kind], abs=0.01), kind


def test_multipliers_keep_the_population_average_until_a_share_is_capped() -> None:
    b = dataclasses.replace(POWER, mix_spread=1.0)
    leanings = draw_leanings(b, 200_000, np.random.default_rng(5))
    assert leanings is not None
    for factor in (leanings.thinking, leanings.cot, leanings.output):
        assert factor.mean() == pytest.approx(1.0, abs=0.02)
    assert leanings.thinking.std() > 1.0 and leanings.output.std() > 0.4
    everyone = np.arange(200_000)
    assert shares(leanings, 0.05, everyone, "thinking").mean() == pytest.approx(0.05, abs=0.002)
    # As documented: the cap at 0.95 pulls a high share's average down (0.5 -> about 0.40).
    assert shares(leanings, 0.5, everyone, "thinking").mean() == pytest.approx(0.40, abs=0.01)


def test_leanings_are_drawn_after_everything_else_an_account_has() -> None:
    def block(spread: float) -> AccountBlock:
        b = dataclasses.replace(POWER, mix_spread=spread)
        return make_accounts(PopulationPlan("p", None, b, 30, 40.0), np.random.default_rng(2), 0, 7)

    plain, leaning = block(0.0), block(0.8)
    assert plain.leanings is None and leaning.leanings is not None
    assert plain.table.equals(leaning.table) and np.array_equal(plain.rate, leaning.rate)


def test_a_spread_population_sends_each_account_its_own_mix() -> None:
    sim = plan(load_preset("adaptive"))
    start = int(sim.start.timestamp() * 1000)

    def per_account(spread: float) -> tuple[np.ndarray, np.ndarray]:
        """(share of exchanges with thinking, median output tokens) per account."""
        b = dataclasses.replace(POWER, mix_spread=spread, rate_per_day=200.0, active_prob=1.0)
        population = PopulationPlan("p", None, b, 40, 200.0)
        block = make_accounts(population, np.random.default_rng(9), start, 3)
        day = day_table(block, sim, 1, GrammarSource(), np.random.default_rng(10))
        accounts = day["account_id"].to_numpy(zero_copy_only=False)
        thinking = day["thinking_budget"].to_numpy() > 0
        output = day["output_tokens"].to_numpy()
        who = [accounts == a for a in np.unique(accounts)]
        return np.array([thinking[w].mean() for w in who]), np.array(
            [np.median(output[w]) for w in who]
        )

    (tight_thinking, tight_out), (wide_thinking, wide_out) = per_account(0.0), per_account(1.2)
    assert wide_thinking.std() > 2 * tight_thinking.std()
    assert wide_out.std() / wide_out.mean() > 1.5 * tight_out.std() / tight_out.mean()
