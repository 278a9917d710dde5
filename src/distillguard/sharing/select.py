"""Which fingerprints of a flagged cluster are worth sharing.

A fingerprint is shared when the operator reuses it (at least two of the cluster's accounts
hold it) and it is the operator's own: nearly every local account holding it was flagged.
A popular SDK's user agent, a coding agent's system prompt or a carrier's network is held
by many unflagged customers and stays home, which both keeps benign customers' traffic out
of the bundle and keeps peers from matching on what everybody sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from distillguard.errors import ConfigError


@dataclass(frozen=True)
class Selection:
    """How strict sharing is."""

    min_accounts: int = 2  # cluster accounts that must hold a fingerprint
    min_purity: float = 0.9  # share of its local holders that were flagged
    per_kind: int = 25  # the most fingerprints of one kind shared per cluster

    def __post_init__(self) -> None:
        if self.min_accounts < 1 or self.per_kind < 1:
            raise ConfigError("min_accounts and per_kind must be at least 1")
        if not 0 < self.min_purity <= 1:
            raise ConfigError("min_purity must be in (0, 1]")


@dataclass(frozen=True)
class Candidate:
    """One fingerprint of one flagged cluster, with what was seen of it (raw: never shared)."""

    cluster_id: str
    kind: str
    raw: str
    accounts: int
    exchanges: int
    first_seen: datetime
    last_seen: datetime
    purity: float


def candidates_sql(holdings: str, results: str, selection: Selection) -> str:
    """SQL for the fingerprints worth sharing, per flagged cluster and kind."""
    return f"""
        WITH h AS ({holdings}),
        flagged AS (SELECT account_id, cluster_id FROM {results} WHERE flagged),
        per_key AS (
          SELECT kind, raw, count(DISTINCT h.account_id) AS holders,
                 count(DISTINCT f.account_id) AS flagged_holders
          FROM h LEFT JOIN flagged f USING (account_id) GROUP BY ALL),
        per_cluster AS (
          SELECT f.cluster_id, kind, raw, count(DISTINCT h.account_id) AS accounts,
                 count(*) AS exchanges, min(ts) AS first_seen, max(ts) AS last_seen
          FROM h JOIN flagged f USING (account_id)
          WHERE f.cluster_id IS NOT NULL GROUP BY ALL)
        SELECT c.cluster_id, c.kind, c.raw, c.accounts, c.exchanges, c.first_seen,
               c.last_seen, k.flagged_holders / k.holders AS purity
        FROM per_cluster c JOIN per_key k USING (kind, raw)
        WHERE c.accounts >= {selection.min_accounts}
          AND k.flagged_holders >= {selection.min_purity} * k.holders
        QUALIFY row_number() OVER (
          PARTITION BY c.cluster_id, c.kind
          ORDER BY c.accounts DESC, c.exchanges DESC, c.raw) <= {selection.per_kind}
        ORDER BY c.cluster_id, c.kind, c.accounts DESC, c.exchanges DESC, c.raw"""


def candidates(
    con: duckdb.DuckDBPyConnection, holdings: str, results: str, selection: Selection
) -> list[Candidate]:
    rows = con.sql(candidates_sql(holdings, results, selection)).fetchall()
    return [
        Candidate(str(c), str(k), str(r), int(a), int(e), f, la, float(p))
        for c, k, r, a, e, f, la, p in rows
    ]
