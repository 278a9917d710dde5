"""An outside evidence input to account scoring, off unless a caller passes one.

A boost adds one rule's strength to every window row's score (noisy-OR, as every rule
combines), in one place of the replay, after the account rules have run. It must be causal:
a row ending at time t may use only what was seen before t. Sharing uses it to count a
match with a peer's indicators (`detect --indicators`); detect itself never imports it.

When the learned combiner decides, the boost stays out of the scores the combiner reads
(it was trained without outside evidence, and would count it twice) and joins the
combiner's probability once, as a noisy-OR, before the thresholds (`with_boost`). A
linking tick reads each account's last row before the tick, so only matches seen before
the tick count. The rule's strength is kept either way, for the explanation.
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


BOOST_STRENGTH = "boost_strength"  # the boost's strength per row, for `with_boost`
# A peer's match stands in for the linking ticks the combiner's flag waits for only from
# this strength up: above what one near-duplicate band (0.5) or a shared network and client
# reach at a peer's usual confidence (sharing/match.py), which benign accounts share with
# a campaign; an exact template or payment match with a confident peer passes it. In the
# sharing benchmark, B's benign accounts matching A's bundle reached 0.50 at most with the
# grammar's prompts and 0.54 with real ones; the operator's accounts 0.86 and 0.59 at
# least, so with real prompts some of them match too weakly to stand in, and the margin
# over benign matches is thin (README, "Indicator sharing").
STAND_IN_STRENGTH = 0.6


def apply_boost(
    boost: AccountBoost,
    arrays: dict[str, np.ndarray],
    scored: Scored,
    window_end: np.ndarray,
    *,
    into_score: bool = True,
) -> Scored:
    """`scored` with the boost's rule added to the score and to `member_score`; with
    `into_score` False (the combiner decides), kept beside them as evidence only."""
    arrays.update(boost.columns(arrays["account_id"], window_end))
    strength = np.clip(np.nan_to_num(boost.rule.strength(arrays)), 0.0, 0.99)
    arrays[BOOST_STRENGTH] = strength
    strengths = {**scored.strengths, boost.rule.code: strength}
    if not into_score:
        return Scored(scored.score, strengths)
    if "member_score" in arrays:
        arrays["member_score"] = 1.0 - (1.0 - arrays["member_score"]) * (1.0 - strength)
    return Scored(1.0 - (1.0 - scored.score) * (1.0 - strength), strengths)


def with_boost(probability: np.ndarray, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The combiner's probability at these rows with the boost's strength at the same rows
    added as a noisy-OR; rows without such evidence keep their probability exactly."""
    strength = arrays.get(BOOST_STRENGTH)
    if strength is None:
        return probability
    joined = 1.0 - (1.0 - probability) * (1.0 - strength)
    return np.asarray(np.where(strength > 0.0, joined, probability), dtype=float)


def stands_in(arrays: dict[str, np.ndarray], rows: int) -> np.ndarray:
    """The rows whose outside evidence stands in for the ticks the combiner's flag waits
    for: at least STAND_IN_STRENGTH. Weaker evidence still joins the probability."""
    strength = arrays.get(BOOST_STRENGTH)
    if strength is None:
        return np.zeros(rows, dtype=bool)
    return np.asarray(strength >= STAND_IN_STRENGTH, dtype=bool)


def boost_facts(
    probability: np.ndarray, arrays: dict[str, np.ndarray], row: int
) -> dict[str, float]:
    """For the combiner's explanation: its own estimate at `row` and the outside evidence
    joined to it (nothing when no boost was applied or it added nothing there)."""
    strength = arrays.get(BOOST_STRENGTH)
    if strength is None or strength[row] <= 0.0:
        return {}
    return {
        "own_estimate": round(float(probability[row]), 3),
        "outside_evidence": round(float(strength[row]), 3),
    }
