"""What the robustness benchmark reports, from per-account scores of many worlds.

Two questions, kept apart:
- the frozen operating point: accounts scoring at or above a threshold chosen on the train
  worlds and then frozen. Recall per group and campaign, the false-positive rate and the
  worst benign population's, per fresh world; median and worst over the worlds.
- ranking: how well the scores separate within each world, at a false-positive budget
  (0.1%, 0.5%, 1%) whose threshold is chosen per world with its labels. This says what a
  perfectly placed threshold would reach; the frozen point says what one placed honestly
  does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from distillguard.evaluate.operating_point import lowest_threshold

BUDGETS = (0.001, 0.005, 0.01)
GROUPS = ("reported", "adaptive")
CAUGHT_SHARE = 0.5


@dataclass(frozen=True)
class WorldResult:
    seed: int
    recall: dict[str, float]  # per group, at the frozen threshold
    fpr: float
    worst_population: tuple[str, float]
    campaign_recall: dict[str, float]
    ranked_recall: dict[str, dict[str, float]]  # budget -> group -> recall


def _columns(table: pa.Table) -> dict[str, np.ndarray]:
    return {name: table[name].to_numpy(zero_copy_only=False) for name in table.column_names}


def lowest_fitting(cols: dict[str, np.ndarray], fpr: float, population_fpr: float) -> float:
    """The lowest threshold at which the benign accounts of these worlds stay within `fpr`
    pooled and within `population_fpr` in every benign population (pooled over worlds)."""
    benign = cols["group"] == "benign"
    threshold = lowest_threshold(cols["score"], benign, fpr)
    for population in np.unique(cols["population"][benign]):
        mine = benign & (cols["population"] == population)
        threshold = max(threshold, lowest_threshold(cols["score"], mine, population_fpr))
    return threshold


def world_result(table: pa.Table, threshold: float) -> WorldResult:
    cols = _columns(table)
    hit = cols["score"] >= threshold
    benign = cols["group"] == "benign"
    recall = {g: _mean(hit[cols["group"] == g]) for g in GROUPS}
    by_population = {
        str(p): _mean(hit[benign & (cols["population"] == p)])
        for p in np.unique(cols["population"][benign])
    }
    worst = max(by_population.items(), key=lambda kv: kv[1])
    campaigns = {
        str(c): _mean(hit[cols["campaign"] == c]) for c in np.unique(cols["campaign"][~benign])
    }
    return WorldResult(
        int(cols["seed"][0]),
        recall,
        _mean(hit[benign]),
        worst,
        campaigns,
        {f"{b:.1%}": _ranked(cols, b) for b in BUDGETS},
    )


def _ranked(cols: dict[str, np.ndarray], budget: float) -> dict[str, float]:
    benign = cols["group"] == "benign"
    threshold = lowest_threshold(cols["score"], benign, budget)
    hit = cols["score"] >= threshold
    return {g: _mean(hit[cols["group"] == g]) for g in GROUPS}


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if len(x) else float("nan")


def median_and_highest(values: list[float]) -> dict[str, float]:
    """Median and worst of the values that exist, where the worst is the highest (false
    positives, leakage, hours to a first flag)."""
    v = np.asarray([x for x in values if not np.isnan(x)])
    return {"median": float(np.median(v)), "worst": float(v.max())} if len(v) else {}


def summary(results: list[WorldResult]) -> dict[str, object]:
    """Median and worst over the worlds, for every figure the benchmark reports."""

    def stats(values: list[float]) -> dict[str, float]:
        v = np.asarray([x for x in values if not np.isnan(x)])
        return {"median": float(np.median(v)), "worst": float(v.min())} if len(v) else {}

    campaigns = sorted({c for r in results for c in r.campaign_recall})
    return {
        "worlds": len(results),
        "frozen": {
            "recall": {g: stats([r.recall[g] for r in results]) for g in GROUPS},
            "false_positive_rate": median_and_highest([r.fpr for r in results]),
            "worst_population_fpr": median_and_highest([r.worst_population[1] for r in results]),
            "worst_population_names": sorted(
                {r.worst_population[0] for r in results if r.worst_population[1] > 0}
            ),
            "campaigns": {
                c: {
                    **stats([r.campaign_recall.get(c, float("nan")) for r in results]),
                    "caught_in": sum(r.campaign_recall.get(c, 0.0) > CAUGHT_SHARE for r in results),
                }
                for c in campaigns
            },
        },
        "ranked": {
            budget: {g: stats([r.ranked_recall[budget][g] for r in results]) for g in GROUPS}
            for budget in results[0].ranked_recall
        },
    }


def pooled_population_fpr(table: pa.Table, threshold: float) -> dict[str, float]:
    """Each benign population's false-positive rate over all the worlds together."""
    cols = _columns(table)
    benign = cols["group"] == "benign"
    hit = cols["score"] >= threshold
    return {
        str(p): _mean(hit[benign & (cols["population"] == p)])
        for p in np.unique(cols["population"][benign])
    }
