"""The combiner's trees as one forest of complete binary trees, walked level by level.

Walking each tree node by node in NumPy costs a pass over the rows per node (a depth-5
tree has up to 31), for every tree. Padded to complete trees of one depth, all trees step
down one level together: per level, each (tree, row) pair gathers its node's feature and
threshold and goes left or right, so a forest of T trees of depth D costs D gathers of
T x rows instead of up to T x (2^D - 1) passes. A leaf above the bottom becomes a chain of
nodes that always go left (threshold +inf) down to copies of its value, so every path
still ends at the value the tree gives; the sum over trees is taken in the trees' order,
term by term, so the scores are the same numbers to the last bit.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np

ROWS_PER_BLOCK = 256  # (trees x rows) arrays that stay in cache: twice as fast as 2,048


class TreeArrays(Protocol):
    """One tree as node arrays (scoring.combiner.Tree): feature -2 at leaves."""

    @property
    def feature(self) -> np.ndarray: ...
    @property
    def threshold(self) -> np.ndarray: ...
    @property
    def left(self) -> np.ndarray: ...
    @property
    def right(self) -> np.ndarray: ...
    @property
    def value(self) -> np.ndarray: ...


@dataclass(frozen=True)
class Forest:
    feature: np.ndarray  # (trees, 2^depth - 1) inner nodes in heap order, level by level
    threshold: np.ndarray
    value: np.ndarray  # (trees, 2^depth) leaf values, left to right
    depth: int

    @classmethod
    def of(cls, trees: Sequence[TreeArrays]) -> Forest:
        depth = max((_depth(t, 0) for t in trees), default=0)
        inner = 2**depth - 1
        feature = np.zeros((len(trees), inner), dtype=np.int64)
        threshold = np.full((len(trees), inner), np.inf)
        value = np.zeros((len(trees), 2**depth))
        for i, tree in enumerate(trees):
            _fill(tree, 0, 0, inner, (feature[i], threshold[i], value[i]))
        return cls(feature, threshold, value, depth)

    def leaf_values(self, columns: np.ndarray, threads: int | None = None) -> np.ndarray:
        """(trees, rows): the value each tree gives each row of `columns` (features x rows).

        Blocks of rows are independent and NumPy's gathers and comparisons release the
        GIL, so `threads` (default: up to two, the CPUs detect may use) walk them at once:
        1.75 times faster on this two-core machine, and the same numbers."""
        rows = columns.shape[1]
        out = np.empty((len(self.value), rows))

        def walk(start: int) -> None:
            stop = min(start + ROWS_PER_BLOCK, rows)
            block = np.zeros((columns.shape[0], ROWS_PER_BLOCK))  # the last one padded
            block[:, : stop - start] = columns[:, start:stop]
            out[:, start:stop] = self._block(block)[:, : stop - start]

        starts = range(0, rows, ROWS_PER_BLOCK)
        threads = threads or min(2, os.cpu_count() or 1)
        if threads <= 1 or len(starts) <= 1:
            for start in starts:
                walk(start)
        else:
            list(_pool(threads).map(walk, starts))  # list(): re-raise a block's exception
        return out

    @functools.cached_property
    def _levels(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per level, per (tree, node) entry tree * 2^level + position: where its feature's
        row starts in a block's flattened (features x ROWS_PER_BLOCK) values, and its
        threshold."""
        levels = []
        for level in range(self.depth):
            first, width = 2**level - 1, 2**level
            nodes = slice(first, first + width)
            offset = self.feature[:, nodes].astype(np.intp) * ROWS_PER_BLOCK
            levels.append((offset.ravel(), np.ascontiguousarray(self.threshold[:, nodes]).ravel()))
        return levels

    def _block(self, columns: np.ndarray) -> np.ndarray:
        """(trees, ROWS_PER_BLOCK) leaf values for one block of exactly ROWS_PER_BLOCK rows.

        `entry` is tree * 2^level + position, so going down is entry * 2 + (went right):
        the tree's offset doubles with its level by itself, and at the bottom the entry is
        the leaf's index in the flattened values. The root level has one node per tree,
        read by broadcasting instead of gathering."""
        flat = columns.ravel()
        row = np.arange(ROWS_PER_BLOCK)[None, :]
        entry = np.arange(len(self.value), dtype=np.intp)[:, None]
        for level, (offset, threshold) in enumerate(self._levels):
            if level == 0:
                right = np.take(flat, offset[:, None] + row) > threshold[:, None]
            else:
                at = np.take(offset, entry)
                at += row  # where in `flat` each (tree, row) finds its node's feature
                right = np.take(flat, at) > np.take(threshold, entry)
            entry = entry * 2 + right
        return np.asarray(np.take(self.value.ravel(), entry))


@functools.cache
def _pool(threads: int) -> ThreadPoolExecutor:
    """One pool per size for the process: starting threads per call would cost more than
    a small forest walk."""
    return ThreadPoolExecutor(threads, thread_name_prefix="forest")


def _depth(tree: TreeArrays, node: int) -> int:
    if tree.feature[node] < 0:
        return 0
    left, right = int(tree.left[node]), int(tree.right[node])
    return 1 + max(_depth(tree, left), _depth(tree, right))


def _fill(
    tree: TreeArrays,
    node: int,
    position: int,
    inner: int,
    out: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """Copy `node` of `tree` to heap `position` of the complete tree, and below it."""
    feature, threshold, value = out
    if position >= inner:
        value[position - inner] = tree.value[node]
        return
    if tree.feature[node] < 0:  # a leaf above the bottom: always left, its value below
        _fill(tree, node, 2 * position + 1, inner, out)
        _fill(tree, node, 2 * position + 2, inner, out)
        return
    feature[position], threshold[position] = tree.feature[node], tree.threshold[node]
    _fill(tree, int(tree.left[node]), 2 * position + 1, inner, out)
    _fill(tree, int(tree.right[node]), 2 * position + 2, inner, out)
