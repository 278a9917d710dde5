"""Accounts linked through shared evidence keys, weighted by kind and rarity; communities.

Keys are what operators share at scale: payment instruments, sign-up addresses and bursts,
prompt templates, system prompts, client networks. A key held by d accounts adds
kind_weight / log2(1 + d) to the link of every pair holding it, as Fraudar weights columns,
so a popular agent's system prompt, a cloud range or one company card across a big team
links little; keys held by more than `max_degree` accounts link nothing, and pairs whose
links sum below `min_link` are not joined. Leiden (igraph/leidenalg) then finds the groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import igraph as ig
import leidenalg
import numpy as np
import pyarrow as pa

from distillguard.linking.dense import dense_blocks
from distillguard.linking.keys import (
    KIND_CODE,
    STRONG_KINDS,
    strong_keys_sql,
    window_keys_sql,
)

KEY_WEIGHTS = {
    "card": 1.0,
    "signup_ip": 1.0,
    "signup_burst": 0.8,
    "prompt_start": 0.35,
    "prompt_end": 0.35,
    "prompt_near": 0.3,
    "coactive": 0.4,
    "system": 0.35,
    "network": 0.3,
    "asn": 0.1,
}
# Weak keys link only when rare: a prompt skeleton used by dozens of accounts is a popular
# prompt, not a shared operator.
WEAK_SCALE = 1.5  # a weak-key overlap of 1 counts as much as one and a half shared cards
WEAK_MAX_DEGREE = {
    "prompt_start": 12,
    "prompt_end": 12,
    "prompt_near": 12,
    "coactive": 12,
    "system": 12,
    "network": 30,
    "asn": 30,
}


@dataclass(frozen=True)
class Links:
    """Account pairs with their link weight, and who holds which strong key."""

    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    key_account: np.ndarray  # strong keys only: holder ...
    key: np.ndarray  # ... and the key ("kind:value")

    def holders(self, kind: str) -> dict[str, list[str]]:
        """The accounts holding each strong key of one kind, for keys two or more hold."""
        found: dict[str, list[str]] = {}
        for account, key in zip(self.key_account.tolist(), self.key.tolist(), strict=True):
            if key.startswith(kind + ":"):
                found.setdefault(key, []).append(account)
        return {k: v for k, v in found.items() if len(v) >= 2}


def _weighted_keys_sql(max_degree: int) -> str:
    """Each (account, key) with its weight kind_weight / log2(1 + degree), for keys held
    by 2 to the kind's degree cap accounts."""
    weights = " ".join(f"WHEN {KIND_CODE[k]} THEN {w}" for k, w in KEY_WEIGHTS.items())
    caps = " ".join(f"WHEN {KIND_CODE[k]} THEN {d}" for k, d in WEAK_MAX_DEGREE.items())
    strong = ", ".join(str(KIND_CODE[k]) for k in STRONG_KINDS)
    return f"""
        WITH degree AS (SELECT kind, key, count(*) AS d FROM key_pairs GROUP BY ALL)
        SELECT p.account_id, p.kind, p.key, p.kind IN ({strong}) AS strong,
               (CASE p.kind {weights} END) / log2(1 + d.d) AS w
        FROM key_pairs p JOIN degree d USING (kind, key)
        WHERE d.d BETWEEN 2 AND (CASE p.kind {caps} ELSE {max_degree} END)"""


def _pairs_sql(min_link: float) -> str:
    """Strong keys add up as they are; weak keys count as a weighted Ochiai overlap, so a
    high-volume account that touches everything does not link to everyone it touches."""
    return f"""
        WITH total AS (
          SELECT account_id, sum(w) AS weak_total FROM weighted_keys WHERE NOT strong
          GROUP BY ALL),
        shared AS (
          SELECT a.account_id AS src, b.account_id AS dst,
                 sum(a.w) FILTER (a.strong) AS strong_w, sum(a.w) FILTER (NOT a.strong) AS weak_w
          FROM weighted_keys a JOIN weighted_keys b
            ON a.kind = b.kind AND a.key = b.key AND a.account_id < b.account_id
          GROUP BY ALL)
        SELECT src, dst,
               coalesce(strong_w, 0) + {WEAK_SCALE} * coalesce(weak_w, 0)
                 / sqrt(greatest(ts.weak_total, 1e-9) * greatest(td.weak_total, 1e-9)) AS weight
        FROM shared
        LEFT JOIN total ts ON ts.account_id = src LEFT JOIN total td ON td.account_id = dst
        WHERE weight >= {min_link}"""


def links(
    con: duckdb.DuckDBPyConnection,
    hour_keys: str,
    accounts: str | None,
    *,
    start: str,
    end: str,
    max_degree: int,
    min_link: float,
) -> Links:
    """Weighted account pairs for the window [start, end), from the `hour_keys` table (see
    keys.hour_keys_sql) and, when given, the accounts table's sign-up keys."""
    strong = None
    if accounts:
        _temp(
            con,
            "active",
            f"""SELECT DISTINCT account_id FROM {hour_keys}
            WHERE hour >= TIMESTAMPTZ '{start}' AND hour < TIMESTAMPTZ '{end}'""",
        )
        strong = _temp(con, "strong_keys", strong_keys_sql(accounts, "active"))
    _temp(con, "key_pairs", window_keys_sql(hour_keys, strong, start, end))
    _temp(con, "weighted_keys", _weighted_keys_sql(max_degree))
    pairs = con.sql(_pairs_sql(min_link)).to_arrow_table()
    keys = _strong_holders(con, strong, max_degree)
    return Links(
        pairs["src"].to_numpy(zero_copy_only=False),
        pairs["dst"].to_numpy(zero_copy_only=False),
        pairs["weight"].to_numpy(),
        keys["account_id"].to_numpy(zero_copy_only=False),
        keys["key"].to_numpy(zero_copy_only=False),
    )


def block_density(
    con: duckdb.DuckDBPyConnection, membership: dict[str, int], blocks: int = 3
) -> dict[str, float]:
    """Fraudar blocks among the linked accounts' weighted keys (the last `links` call's):
    the density of the block each account falls in, for accounts in one."""
    if not membership:
        return {}
    linked = pa.table({"account_id": pa.array(list(membership), pa.string())})
    con.register("linked_accounts", linked)
    edges = con.sql("""
        SELECT account_id, kind, key FROM weighted_keys
        WHERE account_id IN (SELECT account_id FROM linked_accounts)""").fetchnumpy()
    con.unregister("linked_accounts")
    accounts, account_index = np.unique(edges["account_id"], return_inverse=True)
    key_pairs = np.stack([edges["kind"].astype(np.int64), edges["key"].astype(np.int64)], axis=1)
    keys, key_index = np.unique(key_pairs, axis=0, return_inverse=True)
    key_index = key_index.reshape(-1)
    density: dict[str, float] = {}
    for block in dense_blocks(account_index, key_index, len(accounts), len(keys), blocks=blocks):
        for account in accounts[block.accounts].tolist():
            density.setdefault(str(account), block.density)
    return density


def _temp(con: duckdb.DuckDBPyConnection, name: str, sql: str) -> str:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
    return name


def _strong_holders(
    con: duckdb.DuckDBPyConnection, strong: str | None, max_degree: int
) -> pa.Table:
    """The sign-up keys (as text) that 2 to max_degree accounts in the window hold."""
    if strong is None:
        return pa.table({"account_id": pa.array([], pa.string()), "key": pa.array([], pa.string())})
    return con.sql(f"""
        SELECT DISTINCT account_id, key FROM {strong} WHERE key IN (
          SELECT key FROM {strong} GROUP BY key
          HAVING count(DISTINCT account_id) BETWEEN 2 AND {max_degree})""").to_arrow_table()


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
    partition = leidenalg.find_partition(
        graph, leidenalg.ModularityVertexPartition, weights="weight", seed=seed
    )
    offset = len(set(membership.values()))
    for account, group in zip(names.tolist(), partition.membership, strict=True):
        membership.setdefault(str(account), offset + int(group))
    return membership
