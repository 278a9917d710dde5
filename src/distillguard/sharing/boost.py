"""`detect --indicators`: a peer's indicators as one more piece of account evidence.

At every window row, the account's matches with the peer's indicators before the row's end
give a strength (see `match`), added to its score through detect's boost hook. An account
of a campaign a peer has already seen reaches a flag after fewer exchanges than its own
behaviour alone would need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

from distillguard.scoring.evidence import Arrays, Fact, Rule
from distillguard.sharing.keys import CommunityKey
from distillguard.sharing.match import combine, indicator_strength, match_events
from distillguard.sharing.peer import PeerBundle, PeerIndicator, read_bundle, same_operator


def _facts(arrays: Arrays, row: int) -> dict[str, Fact]:
    return {
        "matched_exchanges": int(arrays["peer_matches"][row]),
        "indicators": int(arrays["peer_indicators"][row]),
    }


PEER_RULE = Rule(
    "peer_indicator",
    "matches a peer's indicators",
    same_operator([]),
    lambda arrays: arrays["peer_strength"],
    _facts,
)


@dataclass
class PeerBoost:
    """The detect boost of a peer bundle under the community key."""

    peer: PeerBundle
    key: CommunityKey
    rule: Rule = PEER_RULE
    # Per account: (indicator, sorted times of its matched exchanges).
    events: dict[str, list[tuple[PeerIndicator, np.ndarray]]] = field(default_factory=dict)

    @classmethod
    def from_files(cls, bundle: Path, key: CommunityKey) -> PeerBoost:
        return cls(read_bundle(bundle, key), key)

    def prepare(self, con: duckdb.DuckDBPyConnection, signals: str, accounts: str | None) -> None:
        table = match_events(con, signals, accounts, self.key, self.peer)
        by_id = {i.indicator_id: i for i in self.peer.indicators}
        rows = con.sql(
            f"SELECT account_id, indicator_id, list(epoch_us(ts) ORDER BY ts) FROM {table} "
            "GROUP BY ALL"
        ).fetchall()
        self.events = {}
        for account, indicator, times in rows:
            self.events.setdefault(str(account), []).append(
                (by_id[str(indicator)], np.asarray(times, dtype="datetime64[us]"))
            )

    def columns(self, account_id: np.ndarray, window_end: np.ndarray) -> dict[str, np.ndarray]:
        n = len(account_id)
        out = {
            "peer_strength": np.zeros(n),
            "peer_matches": np.zeros(n, dtype=np.int64),
            "peer_indicators": np.zeros(n, dtype=np.int64),
        }
        ends = window_end.astype("datetime64[us]")
        for account in np.intersect1d(account_id.astype(str), list(self.events)):
            rows = np.flatnonzero(account_id == account)
            per_kind: dict[str, np.ndarray] = {}
            for indicator, times in self.events[account]:
                seen = np.searchsorted(times, ends[rows], side="left")
                strength = indicator_strength(indicator.kind, indicator.confidence, seen)
                per_kind[indicator.kind] = np.maximum(per_kind.get(indicator.kind, 0.0), strength)
                out["peer_indicators"][rows] += seen > 0
            out["peer_strength"][rows] = combine(per_kind, len(rows))
            # One exchange often matches several indicators (its template, bands, card):
            # the fact counts exchanges, each once.
            matched = np.unique(np.concatenate([times for _, times in self.events[account]]))
            out["peer_matches"][rows] = np.searchsorted(matched, ends[rows], side="left")
        return out
