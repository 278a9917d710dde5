"""An operating point on the account scores: the recall bought with a false-positive budget.

The flags use the configured thresholds; this asks a different question, how well the
scores rank accounts: lower the score threshold until the benign accounts above it reach
the budget (1% by default), and report what that threshold would catch, overall, per
campaign and per benign population. An operator reads it as "what a stricter setting
would cost", not as what detection flagged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from distillguard.errors import ConfigError

DEFAULT_BUDGET = 0.01
# A rate with nothing to count (no attack account, no flag, no benign account): not a
# number, so it is never read as 0; JSON writes it null and the text "n/a".
UNDEFINED = float("nan")


def share(count: float, whole: float) -> float:
    """count / whole, or UNDEFINED when there is nothing to count."""
    return count / whole if whole else UNDEFINED


def lowest_threshold(scores: np.ndarray, benign: np.ndarray, budget: float) -> float:
    """The lowest score threshold at which at most `budget` of the benign accounts score at
    or above it (accounts with equal scores go together); inf when not even the top fits."""
    if not 0 <= budget < 1:
        raise ConfigError(f"false-positive budget must be in [0, 1), got {budget}")
    allowed = int(np.floor(budget * int(benign.sum()) + 1e-9))
    candidates = np.unique(scores)
    benign_sorted = np.sort(scores[benign])
    above = len(benign_sorted) - np.searchsorted(benign_sorted, candidates, side="left")
    fitting = candidates[above <= allowed]
    return float(fitting[0]) if len(fitting) else float("inf")


def _share(hit: np.ndarray, groups: np.ndarray, within: np.ndarray) -> dict[str, float]:
    return {str(g): float(hit[within & (groups == g)].mean()) for g in np.unique(groups[within])}


@dataclass(frozen=True)
class TierRates:
    """What one tier of response reaches: the share of attack accounts in it (overall and
    per campaign) and of benign accounts (overall and per population)."""

    recall: float
    false_positive_rate: float
    recall_by_campaign: dict[str, float]
    false_positive_rate_by_population: dict[str, float]


@dataclass(frozen=True)
class OperatingPoint(TierRates):
    """The rates at the lowest score threshold within a false-positive budget."""

    false_positive_budget: float
    threshold: float  # accounts scoring at least this count as flagged; inf: none fit


def tier_rates(
    hit: np.ndarray, attack: np.ndarray, campaign: np.ndarray, population: np.ndarray
) -> TierRates:
    benign = ~attack
    return TierRates(
        share(float(hit[attack].sum()), float(attack.sum())),
        share(float(hit[benign].sum()), float(benign.sum())),
        _share(hit, campaign.astype(str), attack),
        _share(hit, population.astype(str), benign),
    )


def operating_point(
    scores: np.ndarray,
    attack: np.ndarray,
    campaign: np.ndarray,
    population: np.ndarray,
    budget: float = DEFAULT_BUDGET,
) -> OperatingPoint:
    """Recall and false-positive rates at the lowest threshold within `budget`."""
    threshold = lowest_threshold(scores, ~attack, budget)
    rates = tier_rates(scores >= threshold, attack, campaign, population)
    return OperatingPoint(**asdict(rates), false_positive_budget=budget, threshold=threshold)
