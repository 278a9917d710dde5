"""Accounts linked through shared evidence keys, weighted by kind and rarity; communities.

Keys are what operators share at scale: payment instruments, sign-up addresses and bursts,
prompt templates, system prompts, client networks. A key held by d accounts adds
kind_weight / log2(1 + d) to the link of every pair holding it, as Fraudar weights columns,
so a popular agent's system prompt, a cloud range or one company card across a big team
links little; keys held by more than `max_degree` accounts link nothing, and pairs whose
links sum below `min_link` are not joined. Leiden (igraph's implementation) then finds the
groups.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import igraph as ig
import numpy as np
import scipy.sparse as sp

from distillguard.linking.codes import KeyCodes, renumbered
from distillguard.linking.dense import dense_blocks
from distillguard.linking.window import WeightedKeys

WEAK_SCALE = 1.5  # a weak-key overlap of 1 counts as much as one and a half shared cards


@dataclass(frozen=True)
class Links:
    """Account pairs with their link weight, and who holds which strong key."""

    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    key_account: np.ndarray  # strong keys only: holder ...
    key: np.ndarray  # ... and the key ("kind:value")

    def holders(self, kind: str) -> dict[str, list[str]]:
        """The accounts holding each strong key of one kind, for keys two or more hold
        (not to be changed: a tick asks six times, so they are gathered once)."""
        return self._holders_by_kind.get(kind, {})

    @functools.cached_property
    def _holders_by_kind(self) -> dict[str, dict[str, list[str]]]:
        found: dict[str, dict[str, list[str]]] = {}
        for account, key in zip(self.key_account.tolist(), self.key.tolist(), strict=True):
            kind = key.split(":", 1)[0]
            found.setdefault(kind, {}).setdefault(key, []).append(account)
        return {
            kind: {k: v for k, v in keys.items() if len(v) >= 2} for kind, keys in found.items()
        }

    def sharing(self, kind: str, min_holders: int, excluded: frozenset[str]) -> set[str]:
        """Accounts (not `excluded`) holding a key of this kind that at least `min_holders`
        accounts outside `excluded` hold."""
        return {
            a
            for holders in self.holders(kind).values()
            if len(kept := [a for a in holders if a not in excluded]) >= min_holders
            for a in kept
        }


def _shared(weighted: WeightedKeys, kept: np.ndarray, n: int) -> sp.csr_matrix:
    """Per account pair, both ways: the summed weight of the `kept` keys both accounts
    hold, as a sparse product of holdings (weights) and holdings (ones), so no candidate
    pair is listed, let alone sorted."""
    account = weighted.account[kept].astype(np.int64)
    key = weighted.key[kept].astype(np.int64)
    shape = (n, int(weighted.key.max(initial=-1)) + 1)
    weights = sp.csr_matrix((weighted.weight[kept], (account, key)), shape=shape)
    held = sp.csr_matrix((np.ones(len(key)), (account, key)), shape=shape)
    return sp.csr_matrix(weights @ held.T)


def _rows(matrix: sp.csr_matrix) -> np.ndarray:
    return np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))


def _pair_weights(weighted: WeightedKeys, min_link: float) -> tuple[np.ndarray, ...]:
    """(src, dst, weight) of the pairs (src < dst) linked at least min_link, in order:
    strong keys add up as they are; weak keys count as a weighted Ochiai overlap, so a
    high-volume account that touches everything does not link to everyone it touches."""
    n = int(weighted.account.max(initial=-1)) + 1
    weak = ~weighted.strong
    total = np.bincount(weighted.account[weak].astype(np.int64), weighted.weight[weak], n)
    overlap = _shared(weighted, weak, n)
    src, dst = _rows(overlap), overlap.indices
    norm = np.sqrt(np.maximum(total[src], 1e-9) * np.maximum(total[dst], 1e-9))
    overlap.data = WEAK_SCALE * overlap.data / norm
    pairs = sp.csr_matrix(_shared(weighted, weighted.strong, n) + overlap)
    src, dst = _rows(pairs), pairs.indices.astype(np.int64)
    kept = np.flatnonzero((src < dst) & (pairs.data >= min_link))
    kept = kept[np.argsort(src[kept] * n + dst[kept])]
    return src[kept], dst[kept], pairs.data[kept]


def links(weighted: WeightedKeys, codes: KeyCodes, min_link: float) -> Links:
    """Weighted account pairs from a window's weighted keys (see KeyWindow.weighted), in
    order of their account codes. NumPy, not a join in DuckDB: a tick's pairs are few, and
    a query's fixed cost was most of a sparse tick."""
    src, dst, weight = _pair_weights(weighted, min_link)
    held = weighted.strong
    return Links(
        codes.accounts[src],
        codes.accounts[dst],
        weight.astype(float),
        codes.accounts[weighted.account[held]],
        np.array([codes.key_text[k] for k in weighted.key[held].tolist()], dtype=object),
    )


def block_density(
    weighted: WeightedKeys, codes: KeyCodes, membership: dict[str, int], blocks: int = 3
) -> dict[str, float]:
    """Fraudar blocks among the linked accounts' weighted keys: the density of the block
    each account falls in, for accounts in one."""
    if not membership:
        return {}
    linked = np.searchsorted(codes.accounts, np.array(list(membership), dtype=str))
    inside = np.isin(weighted.account, linked)
    accounts, account_index = renumbered(weighted.account[inside], len(codes.accounts))
    keys, key_index = renumbered(weighted.key[inside], len(codes.key_kind))
    density: dict[str, float] = {}
    for block in dense_blocks(account_index, key_index, len(accounts), len(keys), blocks=blocks):
        for account in codes.accounts[accounts[block.accounts]].tolist():
            density.setdefault(str(account), block.density)
    return density


def _strong_components(graph_links: Links, min_size: int) -> list[list[str]]:
    """Groups joined transitively by shared cards, sign-up addresses and bursts: one
    operator's infrastructure shows as a connected component, whatever its shape."""
    keys, key_index = np.unique(graph_links.key, return_inverse=True)
    accounts, account_index = np.unique(graph_links.key_account, return_inverse=True)
    graph = ig.Graph(
        n=len(accounts) + len(keys),
        edges=np.stack([account_index, key_index + len(accounts)], axis=1).tolist(),
    )
    groups = []
    for component in graph.connected_components():
        members = [str(accounts[v]) for v in component if v < len(accounts)]
        if len(members) >= min_size:
            groups.append(members)
    return groups


def communities(graph_links: Links, seed: int, min_size: int = 3) -> dict[str, int]:
    """A group number for every linked account: strong-key components first, then Leiden
    communities of the weighted graph for the accounts left over."""
    membership: dict[str, int] = {}
    for number, members in enumerate(_strong_components(graph_links, min_size)):
        membership.update(dict.fromkeys(members, number))
    if len(graph_links.src) == 0:
        return membership
    names, index = np.unique(
        np.concatenate([graph_links.src, graph_links.dst]), return_inverse=True
    )
    edges = np.stack([index[: len(graph_links.src)], index[len(graph_links.src) :]], axis=1)
    graph = ig.Graph(n=len(names), edges=edges.tolist())
    graph.es["weight"] = graph_links.weight.astype(float).tolist()
    # igraph's own Leiden finds the same modularity partition as leidenalg's here, 25 times
    # faster on these many small components; it draws from igraph's global generator, so
    # seed it for the call and give the default back.
    ig.set_random_number_generator(random.Random(seed))
    try:
        partition = graph.community_leiden(
            objective_function="modularity", weights="weight", n_iterations=2
        )
    finally:
        ig.set_random_number_generator(random)
    offset = len(set(membership.values()))
    for account, group in zip(names.tolist(), partition.membership, strict=True):
        membership.setdefault(str(account), offset + int(group))
    return membership
