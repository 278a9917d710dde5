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

KEY_WEIGHTS = {
    "card": 1.0,
    "signup_ip": 1.0,
    "signup_burst": 0.8,
    "prompt_start": 0.35,
    "prompt_end": 0.35,
    "system": 0.35,
    "network": 0.3,
}
STRONG_KINDS = ("card", "signup_ip", "signup_burst")
# Weak keys link only when rare: a prompt skeleton used by dozens of accounts is a popular
# prompt, not a shared operator.
WEAK_SCALE = 1.5  # a weak-key overlap of 1 counts as much as one and a half shared cards
WEAK_MAX_DEGREE = {"prompt_start": 12, "prompt_end": 12, "system": 12, "network": 30}


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


def _pairs_sql(signals: str, accounts: str | None, start: str, end: str) -> str:
    window = f"ts >= TIMESTAMPTZ '{start}' AND ts < TIMESTAMPTZ '{end}'"
    static = ""
    if accounts:
        active = "account_id IN (SELECT account_id FROM active)"
        static = f"""
          UNION ALL SELECT account_id, 'card:' || payment_fingerprint FROM {accounts}
            WHERE payment_fingerprint IS NOT NULL AND {active}
          UNION ALL SELECT account_id, 'signup_ip:' || signup_ip FROM {accounts}
            WHERE signup_ip IS NOT NULL AND {active}
          UNION ALL SELECT account_id, 'signup_burst:' ||
              regexp_extract(signup_ip, '^(\\d+\\.\\d+)', 1) || '@' ||
              strftime(time_bucket(INTERVAL 30 MINUTE, created_at), '%Y%m%d%H%M')
            FROM {accounts} WHERE created_at IS NOT NULL AND signup_ip IS NOT NULL AND {active}"""
    return f"""
        WITH active AS (SELECT DISTINCT account_id FROM {signals} WHERE {window})
        SELECT DISTINCT account_id, key FROM (
          SELECT account_id, 'prompt_start:' || prefix_fp AS key FROM {signals}
            WHERE {window} AND prefix_fp <> 0
          UNION ALL SELECT account_id, 'prompt_end:' || suffix_fp FROM {signals}
            WHERE {window} AND suffix_fp <> 0
          UNION ALL SELECT account_id, 'system:' || system_fp FROM {signals}
            WHERE {window} AND system_fp <> 0
          UNION ALL SELECT account_id, 'network:' || ip_prefix FROM {signals}
            WHERE {window} AND ip_prefix IS NOT NULL
          {static})"""


def links(
    con: duckdb.DuckDBPyConnection,
    signals: str,
    accounts: str | None,
    *,
    start: str,
    end: str,
    max_degree: int,
    min_link: float,
) -> Links:
    """Weighted account pairs for the window [start, end)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE key_pairs AS {_pairs_sql(signals, accounts, start, end)}"
    )
    cases = " ".join(f"WHEN '{k}' THEN {w}" for k, w in KEY_WEIGHTS.items())
    caps = " ".join(f"WHEN '{k}' THEN {d}" for k, d in WEAK_MAX_DEGREE.items())
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE weighted_keys AS
        WITH degree AS (SELECT key, count(*) AS d FROM key_pairs GROUP BY key)
        SELECT p.account_id, p.key,
               (CASE split_part(p.key, ':', 1) {cases} END) / log2(1 + d.d) AS w
        FROM key_pairs p JOIN degree d USING (key)
        WHERE d.d BETWEEN 2 AND (CASE split_part(p.key, ':', 1) {caps} ELSE {max_degree} END)""")
    strong_kinds = ", ".join(f"'{k}'" for k in STRONG_KINDS)
    # Strong keys add up as they are; weak keys count as a weighted Ochiai overlap, so a
    # high-volume account that touches everything does not link to everyone it touches.
    pairs = con.sql(f"""
        WITH k AS (
          SELECT *, split_part(key, ':', 1) IN ({strong_kinds}) AS strong FROM weighted_keys),
        total AS (SELECT account_id, sum(w) AS weak_total FROM k WHERE NOT strong GROUP BY ALL),
        shared AS (
          SELECT a.account_id AS src, b.account_id AS dst,
                 sum(a.w) FILTER (a.strong) AS strong_w, sum(a.w) FILTER (NOT a.strong) AS weak_w
          FROM k a JOIN k b ON a.key = b.key AND a.account_id < b.account_id GROUP BY ALL)
        SELECT src, dst,
               coalesce(strong_w, 0) + {WEAK_SCALE} * coalesce(weak_w, 0)
                 / sqrt(greatest(ts.weak_total, 1e-9) * greatest(td.weak_total, 1e-9)) AS weight
        FROM shared
        LEFT JOIN total ts ON ts.account_id = src LEFT JOIN total td ON td.account_id = dst
        WHERE weight >= {min_link}""").to_arrow_table()
    strong = " OR ".join(f"key LIKE '{k}:%'" for k in STRONG_KINDS)
    keys = con.sql(f"SELECT account_id, key FROM weighted_keys WHERE {strong}").to_arrow_table()
    return Links(
        pairs["src"].to_numpy(zero_copy_only=False),
        pairs["dst"].to_numpy(zero_copy_only=False),
        pairs["weight"].to_numpy(),
        keys["account_id"].to_numpy(zero_copy_only=False),
        keys["key"].to_numpy(zero_copy_only=False),
    )


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
