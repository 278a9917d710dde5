"""The score threshold within a false-positive budget, and what it would catch."""

from __future__ import annotations

import numpy as np
import pytest

from distillguard.errors import ConfigError
from distillguard.evaluate.operating_point import lowest_threshold, operating_point, tier_rates

B, A = False, True

THRESHOLDS = [
    # (case, scores, is benign, budget, threshold)
    ("attacks above every benign", [0.9, 0.8, 0.1, 0.2], [A, A, B, B], 0.0, 0.8),
    ("half the benign allowed", [0.9, 0.3, 0.1, 0.2], [A, A, B, B], 0.5, 0.2),
    ("tied benign go together", [0.9, 0.5, 0.5, 0.5], [A, B, B, A], 0.5, 0.9),
    ("one benign allowed: its tie fits", [0.5, 0.5, 0.1, 0.1], [A, B, B, B], 0.4, 0.5),
    ("top is benign: none fit", [0.9, 0.1, 0.2], [B, A, B], 0.0, float("inf")),
    ("no benign: everything fits", [0.3, 0.7], [A, A], 0.01, 0.3),
]


@pytest.mark.parametrize(
    ("case", "scores", "attack", "budget", "threshold"),
    THRESHOLDS,
    ids=[t[0] for t in THRESHOLDS],
)
def test_lowest_threshold(
    case: str, scores: list[float], attack: list[bool], budget: float, threshold: float
) -> None:
    got = lowest_threshold(np.array(scores), ~np.array(attack), budget)
    assert got == threshold


@pytest.mark.parametrize("budget", [-0.1, 1.0, 2.0])
def test_a_budget_outside_0_1_is_refused(budget: float) -> None:
    with pytest.raises(ConfigError, match="budget"):
        lowest_threshold(np.array([0.5]), np.array([True]), budget)


def test_operating_point_per_campaign_and_population() -> None:
    rng = np.random.default_rng(0)
    benign_scores = rng.uniform(0, 0.6, 1000)
    scores = np.r_[[0.9, 0.9, 0.2, 0.55], benign_scores]
    attack = np.r_[[True] * 4, [False] * 1000]
    campaign = np.array(["x", "x", "y", "y"] + [""] * 1000, dtype=object)
    population = np.array([""] * 4 + ["p", "q"] * 500, dtype=object)
    point = operating_point(scores, attack, campaign, population, budget=0.01)
    above = np.sort(benign_scores)[-11]  # the 11th highest benign would break the budget
    assert above < point.threshold <= np.sort(benign_scores)[-10]
    assert point.false_positive_rate == pytest.approx(0.01)
    assert point.recall_by_campaign == {"x": 1.0, "y": float(point.threshold <= 0.55) / 2}
    assert set(point.false_positive_rate_by_population) == {"p", "q"}
    rates = point.false_positive_rate_by_population
    assert (rates["p"] + rates["q"]) / 2 == pytest.approx(0.01)


def test_tier_rates_count_hits_per_campaign_and_population() -> None:
    hit = np.array([True, False, True, True, False, False, True, False])
    attack = np.array([True, True, True, False, False, False, False, False])
    campaign = np.array(["x", "x", "y", "", "", "", "", ""], dtype=object)
    population = np.array(["", "", "", "p", "p", "q", "q", "q"], dtype=object)
    rates = tier_rates(hit, attack, campaign, population)
    assert rates.recall == pytest.approx(2 / 3)
    assert rates.false_positive_rate == pytest.approx(2 / 5)
    assert rates.recall_by_campaign == {"x": 0.5, "y": 1.0}
    assert rates.false_positive_rate_by_population == pytest.approx({"p": 0.5, "q": 1 / 3})
