"""The shipped combiner's trees evaluate as scikit-learn's do; cohort features are ranks
and group aggregates, zero outside any group."""

from __future__ import annotations

import numpy as np
import pytest
from benchmarks.robustness.train import export
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier

from distillguard.errors import ConfigError
from distillguard.scoring.combiner import Combiner, Tree, shipped
from distillguard.scoring.ranks import percentile, percentile_within


def _fitted() -> tuple[GradientBoostingClassifier, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] * x[:, 2] + rng.normal(0, 0.3, 400)) > 0.2
    return GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0).fit(x, y), x


def _export(model: GradientBoostingClassifier, names: list[str]) -> Combiner:
    trees = tuple(
        Tree(
            t.tree_.feature.astype(np.int64),
            t.tree_.threshold.astype(float),
            t.tree_.children_left.astype(np.int64),
            t.tree_.children_right.astype(np.int64),
            t.tree_.value[:, 0, 0].astype(float),
        )
        for t in model.estimators_[:, 0]
    )
    probe = np.zeros((1, len(names)))
    lr = float(model.learning_rate)
    baseline = float(model.decision_function(probe)[0]) - lr * sum(
        float(t.predict(probe)[0]) for t in trees
    )
    return Combiner(tuple(names), baseline, lr, trees, {})


def test_trees_evaluate_as_scikit_learn_does_and_survive_json() -> None:
    model, x = _fitted()
    combiner = _export(model, ["a", "b", "c"])
    columns = {"a": x[:, 0], "b": x[:, 1], "c": x[:, 2]}
    expected = model.predict_proba(x)[:, 1]
    assert np.allclose(combiner.score(columns), expected, atol=1e-12)
    again = Combiner.from_json(combiner.to_json())
    assert np.allclose(again.score(columns), expected, atol=1e-12)


def test_histogram_boosting_exports_as_scikit_learn_scores() -> None:
    """The trainer's model (histogram gradient boosting) through the trainer's export."""
    _, x = _fitted()
    y = (x[:, 0] + 0.5 * x[:, 1] * x[:, 2]) > 0.2
    model = HistGradientBoostingClassifier(max_iter=40, max_depth=4, early_stopping=False,
                                           random_state=0).fit(x, y)  # fmt: skip
    combiner = Combiner.from_json(export(model, ["a", "b", "c"], {}).to_json())
    columns = {"a": x[:, 0], "b": x[:, 1], "c": x[:, 2]}
    assert np.allclose(combiner.score(columns), model.predict_proba(x)[:, 1], atol=1e-12)


def test_a_missing_feature_is_a_config_error() -> None:
    model, x = _fitted()
    with pytest.raises(ConfigError, match="needs features"):
        _export(model, ["a", "b", "c"]).score({"a": x[:, 0]})


def test_the_shipped_model_names_its_training_worlds() -> None:
    model = shipped()
    assert model.trees and len(set(model.features)) == len(model.features)
    assert model.about["preset"] == "randomized"
    assert set(model.about["train_seeds"]).isdisjoint(range(1, 6))  # benchmark's fit seeds


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([3.0], [0.5]),
        ([1.0, 2.0], [0.25, 0.75]),
        ([5.0, 5.0, 1.0, 9.0], [0.5, 0.5, 0.125, 0.875]),
    ],
)
def test_percentiles_are_mid_ranks(values: list[float], expected: list[float]) -> None:
    assert percentile(np.array(values)).tolist() == expected


def test_percentiles_ignore_the_scale_of_the_world() -> None:
    x = np.random.default_rng(1).lognormal(size=50)
    assert np.array_equal(percentile(x), percentile(7.5 * x**2))
    groups = np.array(["a", "b"] * 25, dtype=object)
    within = percentile_within(x, groups)
    assert np.array_equal(within[groups == "a"], percentile(x[groups == "a"]))


@pytest.mark.parametrize(
    "groups",
    [
        np.array([], dtype=object),
        np.array(["free"] * 7, dtype=object),
        np.array(["scale", "free", "edu", "free", "scale", "edu", "free"], dtype=object),
        np.array([3, 1, 3, 2, 1, 1, 2]),
    ],
)
def test_percentiles_within_groups_are_each_groups_own(groups: np.ndarray) -> None:
    x = np.random.default_rng(2).lognormal(size=len(groups))
    within = percentile_within(x, groups)
    for label in set(groups.tolist()):
        mine = groups == label
        assert np.array_equal(within[mine], percentile(x[mine]))
    assert len(within) == len(groups)


def _walk(tree: Tree, row: np.ndarray) -> float:
    """One row down one tree, node by node: the definition the fast path must equal."""
    node = 0
    while tree.feature[node] >= 0:
        go_left = row[tree.feature[node]] <= tree.threshold[node]
        node = int(tree.left[node] if go_left else tree.right[node])
    return float(tree.value[node])


def test_the_shipped_combiner_scores_exactly_as_walking_each_row_down_each_tree() -> None:
    model = shipped()
    rng = np.random.default_rng(2)
    columns = {
        f: rng.choice([0.0, 0.5, 1.0, 3.0, 40.0], 60) * rng.random(60) for f in model.features
    }
    rows = model.matrix(columns)
    raw = np.full(len(rows), model.baseline)
    for tree in model.trees:  # added tree by tree, as the combiner adds them
        raw += model.learning_rate * np.array([_walk(tree, r) for r in rows])
    expected = 1.0 / (1.0 + np.exp(-raw))
    assert np.array_equal(model.score(columns), expected)
