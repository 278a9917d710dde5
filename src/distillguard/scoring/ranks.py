"""Percentile ranks of a window's values: how magnitudes enter the relative features."""

from __future__ import annotations

import numpy as np


def percentile(x: np.ndarray) -> np.ndarray:
    """Each value's mid-rank among the values, in (0, 1); ties share a rank."""
    if len(x) == 0:
        return np.zeros(0)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    below = np.cumsum(counts) - counts
    return np.asarray((below[inverse] + 0.5 * counts[inverse]) / len(x), dtype=float)


def percentile_within(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    out = np.zeros(len(x))
    for g in np.unique(groups):
        mine = groups == g
        out[mine] = percentile(x[mine])
    return out
