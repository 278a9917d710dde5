"""Complete-tree padding walks every row to the leaf its own tree gives it, and the
compiled walk sums the trees in their order, to the last bit."""

from __future__ import annotations

import numpy as np
import pytest

from distillguard.errors import ConfigError
from distillguard.scoring import forest as forest_module
from distillguard.scoring.combiner import Tree
from distillguard.scoring.forest import Forest


def _tree(feature: list[int], threshold: list[float], left: list[int], right: list[int],
          value: list[float]) -> Tree:  # fmt: skip
    return Tree(np.array(feature), np.array(threshold), np.array(left), np.array(right),
                np.array(value))  # fmt: skip


ONE_LEAF = _tree([-2], [0.0], [-1], [-1], [0.7])
# a leaf at depth 1 beside a branch two levels deeper
UNEVEN = _tree(
    [0, -2, 1, -2, 0, -2, -2],
    [0.5, 0, 2.0, 0, 0.9, 0, 0],
    [1, -1, 3, -1, 5, -1, -1],
    [2, -1, 4, -1, 6, -1, -1],
    [0, -1.0, 0, 2.0, 0, 3.0, 4.0],
)


def _walk(tree: Tree, row: np.ndarray) -> float:
    node = 0
    while tree.feature[node] >= 0:
        node = int(tree.left[node] if row[tree.feature[node]] <= tree.threshold[node]
                   else tree.right[node])  # fmt: skip
    return float(tree.value[node])


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("trees", [[ONE_LEAF], [UNEVEN], [UNEVEN, ONE_LEAF, UNEVEN]])
def test_every_row_gets_the_value_walking_its_tree_gives(trees: list[Tree], threads: int) -> None:
    rows = np.random.default_rng(0).choice(
        [0.0, 0.5, 0.7, 0.9, 1.0, 2.0, 3.0], (4500, 2)
    )  # walked by one thread or several (4,500 rows: two slices of at least 2,048)
    for tree in trees:  # one tree summed from 0 at rate 1: its leaf values
        got = Forest.of([tree]).sums(rows, 0.0, 1.0, threads=threads)
        assert np.array_equal(got, [_walk(tree, r) for r in rows])


def _random_tree(rng: np.random.Generator, features: int, depth: int) -> Tree:
    """A tree grown at random, its leaves at any depth up to `depth`."""
    feature: list[int] = []
    left: list[int] = []
    right: list[int] = []
    threshold: list[float] = []
    value: list[float] = []

    def grow(level: int) -> int:
        node = len(feature)
        for column in (feature, left, right):
            column.append(0)
        threshold.append(0.0)
        value.append(0.0)
        if level == depth or rng.random() < 0.15:
            feature[node], value[node], left[node], right[node] = -2, rng.normal(), -1, -1
            return node
        feature[node], threshold[node] = int(rng.integers(features)), float(rng.random())
        left[node] = grow(level + 1)
        right[node] = grow(level + 1)
        return node

    grow(0)
    return _tree(feature, threshold, left, right, value)


@pytest.mark.parametrize(
    ("trees", "rows", "threads"),
    [(1, 0, 1), (3, 5, 1), (40, 900, 2), (40, 900, 3), (200, 700, 2), (7, 3, 8)],
)
def test_sums_add_the_trees_in_their_order_to_the_last_bit(
    trees: int, rows: int, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forest_module, "MIN_ROWS_PER_THREAD", 1)  # every thread asked for
    rng = np.random.default_rng(trees + rows)
    grown = [_random_tree(rng, 6, 5) for _ in range(trees)]
    forest = Forest.of(grown)
    x = rng.random((rows, 6))
    for i in range(min(rows, trees)):  # on a threshold: x equal to it goes left
        if forest.feature.shape[1] and np.isfinite(forest.threshold[i, 0]):
            x[i, forest.feature[i, 0]] = forest.threshold[i, 0]
    expected = np.full(rows, -1.25)
    for tree in grown:  # term by term, as NumPy adds arrays, walking the unpadded trees
        expected += 0.1 * np.array([_walk(tree, r) for r in x])
    assert np.array_equal(forest.sums(x, -1.25, 0.1, threads=threads), expected)
    for tree in grown:
        got = Forest.of([tree]).sums(x, 0.0, 1.0, threads=threads)
        assert np.array_equal(got, [_walk(tree, r) for r in x])


@pytest.mark.parametrize(
    ("name", "x"),
    [
        ("fewer features than the trees test", np.zeros((3, 1))),
        ("not a table of rows", np.zeros(3)),
    ],
)
def test_rows_without_the_features_the_trees_test_are_refused(name: str, x: np.ndarray) -> None:
    forest = Forest.of([UNEVEN])  # tests features 0 and 1
    with pytest.raises(ConfigError, match="the trees test 2 features"):
        forest.sums(x, 0.0, 1.0)
