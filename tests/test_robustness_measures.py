"""The robustness benchmark's thresholds and figures (benchmarks/robustness/measures.py):
a frozen threshold keeps every benign population under its bar on the fit worlds, and a
world's figures are computed at the frozen threshold, not one chosen with its labels."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from benchmarks.robustness.measures import lowest_fitting, world_result
from benchmarks.robustness.train import balanced


def _world(scores: list[float], groups: list[str], populations: list[str]) -> pa.Table:
    return pa.table(
        {
            "seed": [7] * len(scores),
            "score": scores,
            "group": groups,
            "population": populations,
            "campaign": [
                p if g != "benign" else None for g, p in zip(groups, populations, strict=True)
            ],
        }
    )


def _cols(table: pa.Table) -> dict[str, np.ndarray]:
    return {n: table[n].to_numpy(zero_copy_only=False) for n in table.column_names}


@pytest.mark.parametrize(
    ("population_bar", "expected"),
    [(0.5, 0.8), (0.0, 0.95)],  # at 0, the one teacher at 0.9 must stay below
)
def test_a_frozen_threshold_keeps_every_population_under_its_bar(
    population_bar: float, expected: float
) -> None:
    scores = [0.1] * 8 + [0.9, 0.2] + [0.95, 0.8]
    groups = ["benign"] * 10 + ["reported", "adaptive"]
    populations = ["casual"] * 8 + ["teacher", "teacher"] + ["hydra", "quiet"]
    table = _world(scores, groups, populations)
    assert lowest_fitting(_cols(table), 0.1, population_bar) == pytest.approx(expected)


def test_world_figures_use_the_frozen_threshold() -> None:
    table = _world(
        [0.1, 0.2, 0.7, 0.9, 0.3],
        ["benign", "benign", "benign", "reported", "adaptive"],
        ["casual", "casual", "teacher", "hydra", "quiet"],
    )
    r = world_result(table, 0.6)
    assert r.recall == {"reported": 1.0, "adaptive": 0.0}
    assert r.fpr == pytest.approx(1 / 3) and r.worst_population == ("teacher", 1.0)
    assert r.campaign_recall == {"hydra": 1.0, "quiet": 0.0}


def test_balanced_weights_give_every_group_the_same_total() -> None:
    groups = np.array(["casual"] * 90 + ["power_user"] * 10, dtype=object)
    w = balanced(groups)
    assert w[groups == "casual"].sum() == pytest.approx(w[groups == "power_user"].sum())
