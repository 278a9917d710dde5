"""Local traffic against a peer's keyed indicators: which accounts match, and how strongly.

Each local fingerprint is keyed under the community key (each distinct value once) and
joined to the peer's keyed values, inside each indicator's validity. An account's strength
is a noisy-OR over fingerprint kinds of the best matching indicator of that kind: its kind
weight, times the producer's confidence, times a saturating count of matched exchanges.
Kinds weigh what a match proves: an exact template or payment instrument is the operator's
own; a near-duplicate band, a network or a client is shared with more people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa

from distillguard.sharing.fingerprints import holdings_sql, keyed_table
from distillguard.sharing.keys import CommunityKey
from distillguard.sharing.peer import PeerBundle

KIND_WEIGHT = {
    "template_skeleton": 0.9,
    "payment": 0.9,
    "template_prefix": 0.6,
    "template_suffix": 0.6,
    "system_prompt": 0.6,
    "template_band": 0.5,
    "signup_network": 0.4,
    "exit_network": 0.3,
    "client": 0.3,
}
EXCHANGES_SCALE = 3.0  # matched exchanges at which a match counts 63% of its weight
MAX_STRENGTH = 0.95
_TIME = pa.timestamp("us", tz="UTC")
_INDICATORS = pa.schema(
    [
        ("indicator_id", pa.string()),
        ("kind", pa.string()),
        ("keyed", pa.string()),
        ("valid_from", _TIME),
        ("valid_until", _TIME),
    ]
)


@dataclass(frozen=True)
class Match:
    """One local account's exchanges matching one peer indicator."""

    account_id: str
    indicator_id: str
    exchanges: int
    first_seen: datetime
    last_seen: datetime


def indicator_strength(kind: str, confidence: float, exchanges: np.ndarray) -> np.ndarray:
    saturated = 1.0 - np.exp(-np.maximum(exchanges, 0) / EXCHANGES_SCALE)
    return np.asarray(KIND_WEIGHT[kind] * confidence * saturated, dtype=float)


def combine(per_kind: dict[str, np.ndarray], rows: int) -> np.ndarray:
    """Noisy-OR across kinds, capped: a peer's word is evidence, never certainty."""
    miss = np.ones(rows)
    for strength in per_kind.values():
        miss *= 1.0 - strength
    return np.asarray(np.minimum(1.0 - miss, MAX_STRENGTH), dtype=float)


def _register(con: duckdb.DuckDBPyConnection, peer: PeerBundle) -> None:
    table = pa.Table.from_pylist(
        [
            {
                "indicator_id": i.indicator_id,
                "kind": i.kind,
                "keyed": i.keyed,
                "valid_from": i.valid_from,
                "valid_until": i.valid_until,
            }
            for i in peer.indicators
        ],
        schema=_INDICATORS,
    )
    con.register("_peer_arrow", table)
    con.execute("CREATE OR REPLACE TEMP TABLE peer_indicators AS SELECT * FROM _peer_arrow")
    con.unregister("_peer_arrow")


def match_events(
    con: duckdb.DuckDBPyConnection,
    signals: str,
    accounts: str | None,
    key: CommunityKey,
    peer: PeerBundle,
) -> str:
    """Create temp table `peer_events` (account_id, ts, indicator_id): every local exchange
    holding a fingerprint of a valid peer indicator. Returns the table's name."""
    _register(con, peer)
    kinds = "', '".join(sorted({i.kind for i in peer.indicators}) or ["-"])
    con.execute(
        "CREATE OR REPLACE TEMP TABLE peer_holdings AS SELECT * FROM "
        f"({holdings_sql(signals, accounts)}) WHERE kind IN ('{kinds}')"
    )
    keyed_table(con, "peer_holdings", key, "peer_keyed")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE peer_events AS
           SELECT DISTINCT h.account_id, h.ts, i.indicator_id
           FROM peer_holdings h
           JOIN peer_keyed k USING (kind, raw)
           JOIN peer_indicators i ON i.kind = k.kind AND i.keyed = k.keyed
           WHERE h.ts >= i.valid_from AND (i.valid_until IS NULL OR h.ts <= i.valid_until)"""
    )
    con.execute("DROP TABLE peer_holdings")
    return "peer_events"


def matched_exchanges(con: duckdb.DuckDBPyConnection, events: str) -> dict[str, int]:
    """Per account, its exchanges that matched any indicator, each counted once (one
    exchange often matches several: its template, its bands, its card)."""
    rows = con.sql(f"SELECT account_id, count(DISTINCT ts) FROM {events} GROUP BY ALL")
    return {str(a): int(n) for a, n in rows.fetchall()}


def matches(con: duckdb.DuckDBPyConnection, events: str) -> list[Match]:
    rows = con.sql(
        f"SELECT account_id, indicator_id, count(*), min(ts), max(ts) FROM {events} "
        "GROUP BY ALL ORDER BY account_id, indicator_id"
    ).fetchall()
    return [Match(str(a), str(i), int(n), f, la) for a, i, n, f, la in rows]
