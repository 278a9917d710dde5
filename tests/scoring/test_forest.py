"""Complete-tree padding walks every row to the leaf its own tree gives it."""

from __future__ import annotations

import numpy as np
import pytest

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
    )  # over many blocks, walked by one thread or several
    got = Forest.of(trees).leaf_values(np.ascontiguousarray(rows.T), threads=threads)
    expected = np.array([[_walk(t, r) for r in rows] for t in trees])
    assert np.array_equal(got, expected)
