"""The combiner's trees as one forest of complete binary trees, walked by compiled code.

Padded to complete trees of one depth, a tree is two arrays in heap order (each inner
node's feature and threshold) and its leaves' values left to right: a row goes down by
`node = 2 * node + 1 + (x[feature] > threshold)`, the same D steps in every tree, with no
child pointers to follow. A leaf above the bottom becomes a chain of nodes that always go
left (threshold +inf) down to copies of its value, so every path still ends at the value
the tree gives.

The walk is a small Numba kernel (distillguard/compiled.py). The NumPy walk it replaced
stepped all trees down one level together with gathers over (trees x rows) index arrays
and was memory-bound: on a linking tick's 13,500 accounts and the shipped 500 trees it
took 150-190 ms on two threads, the kernel 60 ms on one (README, "A compiled forest
walk"). The kernel sums a row's trees in the trees' order, term by term, as
`raw += rate * value` did over NumPy arrays, so the scores are the same numbers to the
last bit (tests/scoring/test_forest.py).
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from distillguard.compiled import kernel
from distillguard.errors import ConfigError

# Rows walked side by side through one tree: their paths are independent, so the CPU
# overlaps their loads (16 rows: 3.5 times faster than one at a time).
INTERLEAVE = 16
MIN_ROWS_PER_THREAD = 2_048  # below this a second thread costs more than it saves
# A forest as the kernels take it: feature, threshold and value (as in Forest), and depth.
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, int]


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


@kernel
def _sums(x: np.ndarray, trees: Arrays, start: float, rate: float, out: np.ndarray) -> None:
    """out[r] = start + rate * (value of tree 0) + rate * (value of tree 1) + ..., in
    that order, for each row r of x (rows x features)."""
    feature, threshold, value, depth = trees
    inner = feature.shape[1]
    node = np.zeros(INTERLEAVE, np.int64)
    acc = np.zeros(INTERLEAVE)
    for first in range(0, x.shape[0], INTERLEAVE):
        rows = min(INTERLEAVE, x.shape[0] - first)
        acc[:rows] = start
        for t in range(len(feature)):
            node[:rows] = 0
            for _ in range(depth):
                for j in range(rows):
                    k = node[j]
                    node[j] = 2 * k + 1 + (x[first + j, feature[t, k]] > threshold[t, k])
            for j in range(rows):
                acc[j] += rate * value[t, node[j] - inner]
        out[first : first + rows] = acc[:rows]


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

    def _checked(self, x: np.ndarray) -> np.ndarray:
        """x as the kernels read it (C-ordered floats), once it holds every feature the
        trees test: compiled code does not check its reads as NumPy did."""
        x = np.ascontiguousarray(x, dtype=float)
        needed = int(self.feature.max(initial=-1)) + 1
        if x.ndim != 2 or (len(x) and x.shape[1] < needed):
            raise ConfigError(f"the trees test {needed} features; the rows have {x.shape[1:]}")
        return x

    @property
    def _arrays(self) -> Arrays:
        return self.feature, self.threshold, self.value, self.depth

    def sums(
        self, x: np.ndarray, start: float, rate: float, threads: int | None = None
    ) -> np.ndarray:
        """Per row of `x` (rows x features): start + rate * each tree's value, added in
        the trees' order. The kernel releases the GIL, so `threads` (default: up to two,
        the CPUs detect may use) walk slices of the rows at once."""
        x = self._checked(x)
        out = np.empty(len(x))

        def walk(part: slice) -> None:
            _sums(x[part], self._arrays, start, rate, out[part])

        _split(len(x), threads, walk)
        return out


def _split(rows: int, threads: int | None, walk: Callable[[slice], Any]) -> None:
    """Call walk on `threads` contiguous slices of range(rows) at once (one when small)."""
    threads = threads or min(2, os.cpu_count() or 1)
    threads = max(1, min(threads, rows // MIN_ROWS_PER_THREAD))
    bounds = np.linspace(0, rows, threads + 1).astype(int)
    parts = [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds.tolist())]
    if len(parts) == 1:
        walk(parts[0])
    else:
        list(_pool(len(parts)).map(walk, parts))  # list(): re-raise a slice's exception


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
