"""Fraudar-style dense blocks: a planted block is found, camouflage does not hide it."""

from __future__ import annotations

import numpy as np

from distillguard.linking.dense import dense_blocks


def _graph(camouflage: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int, int]:
    """300 accounts x 2000 keys of sparse background; accounts 0-19 all hold keys 0-29.
    Camouflage: each block account also holds this many popular keys (1000-1009)."""
    rng = np.random.default_rng(seed)
    accounts = rng.integers(20, 300, size=1500)
    keys = rng.integers(30, 2000, size=1500)
    block_a, block_k = np.meshgrid(np.arange(20), np.arange(30))
    parts_a = [accounts, block_a.ravel()]
    parts_k = [keys, block_k.ravel()]
    popular = 1000 + np.arange(10)
    fans = rng.integers(20, 300, size=(10, 100))
    parts_a.append(fans.ravel())
    parts_k.append(np.repeat(popular, 100))
    for account in range(20):
        chosen = rng.choice(popular, size=camouflage, replace=False)
        parts_a.append(np.full(camouflage, account))
        parts_k.append(chosen)
    pairs = np.unique(np.stack([np.concatenate(parts_a), np.concatenate(parts_k)], 1), axis=0)
    return pairs[:, 0], pairs[:, 1], 300, 2000


def test_planted_block_is_found_with_and_without_camouflage() -> None:
    for camouflage in (0, 5, 10):
        a, k, n_accounts, n_keys = _graph(camouflage)
        blocks = dense_blocks(a, k, n_accounts, n_keys, blocks=1)
        found = set(blocks[0].accounts.tolist())
        assert set(range(20)) <= found, camouflage
        assert len(found) <= 26, camouflage  # batch peeling keeps a few fans of the popular keys
        assert set(range(30)) <= set(blocks[0].keys.tolist())


def test_blocks_are_disjoint_in_edges_and_densest_first() -> None:
    a, k, n_accounts, n_keys = _graph(0)
    blocks = dense_blocks(a, k, n_accounts, n_keys, blocks=3)
    densities = [b.density for b in blocks]
    assert densities == sorted(densities, reverse=True)
    assert blocks[0].explanation()["accounts"] == len(blocks[0].accounts)


def test_empty_graph_has_no_block() -> None:
    empty = np.array([], dtype=np.int64)
    assert dense_blocks(empty, empty, 0, 0) == []
