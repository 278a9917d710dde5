"""An outside evidence input to account scoring, off unless a caller passes one.

A boost adds one rule's strength to every window row's score (noisy-OR, as every rule
combines), in one place of the replay, after the account rules have run. It must be causal:
a row ending at time t may use only what was seen before t. Sharing uses it to count a
match with a peer's indicators (`detect --indicators`); detect itself never imports it.
"""

from __future__ import annotations

from typing import Protocol

import duckdb
import numpy as np

from distillguard.scoring.evidence import Rule, Scored


class AccountBoost(Protocol):
    """Extra evidence per window row; `rule.strength` reads the arrays `columns` returns."""

    rule: Rule

    def prepare(self, con: duckdb.DuckDBPyConnection, signals: str, accounts: str | None) -> None:
        """Read what the boost needs from the run's signals (and accounts) table."""

    def columns(self, account_id: np.ndarray, window_end: np.ndarray) -> dict[str, np.ndarray]:
        """Arrays for rows of these accounts ending at these times, from data before them."""


def apply_boost(
    boost: AccountBoost, arrays: dict[str, np.ndarray], scored: Scored, window_end: np.ndarray
) -> Scored:
    """`scored` with the boost's rule added to the score and to `member_score`."""
    arrays.update(boost.columns(arrays["account_id"], window_end))
    strength = np.clip(np.nan_to_num(boost.rule.strength(arrays)), 0.0, 0.99)
    if "member_score" in arrays:
        arrays["member_score"] = 1.0 - (1.0 - arrays["member_score"]) * (1.0 - strength)
    return Scored(
        1.0 - (1.0 - scored.score) * (1.0 - strength),
        {**scored.strengths, boost.rule.code: strength},
    )
