"""Per account, the window row where its own score peaked: what its result is explained by.

The replay scores the log run by run and keeps only these rows between runs, so what it
holds for the results grows with the accounts, not with the hours of history. Ties go to
the earlier row, as in a single pass over the whole log in time order.
"""

from __future__ import annotations

import numpy as np

from distillguard.scoring.evidence import Scored

Arrays = dict[str, np.ndarray]


def _take(arrays: Arrays, scored: Scored, rows: np.ndarray) -> tuple[Arrays, Scored]:
    strengths = {code: s[rows] for code, s in scored.strengths.items()}
    return {k: v[rows] for k, v in arrays.items()}, Scored(scored.score[rows], strengths)


def _concat(first: tuple[Arrays, Scored], then: tuple[Arrays, Scored]) -> tuple[Arrays, Scored]:
    (a, sa), (b, sb) = first, then
    strengths = {
        code: np.concatenate([sa.strengths[code], sb.strengths[code]]) for code in sa.strengths
    }
    return (
        {k: np.concatenate([a[k], b[k]]) for k in a},
        Scored(np.concatenate([sa.score, sb.score]), strengths),
    )


def first_peak_per_account(accounts: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Index of each account's highest score (the earliest index on a tie), by account."""
    order = np.lexsort((np.arange(len(scores)), -scores, accounts.astype(str)))
    ordered = accounts[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]] if len(order) else np.zeros(0, bool)
    return np.asarray(order[first], dtype=np.int64)


class BestRows:
    """The peak row of every account seen so far."""

    def __init__(self) -> None:
        self.arrays: Arrays = {}
        self.scored = Scored(np.zeros(0))

    def update_one(self, arrays: Arrays, scored: Scored, rows: np.ndarray) -> None:
        """Offer `rows` of one run (later in time than every row offered before)."""
        self.update_many([(arrays, scored, rows)])

    def update_many(self, runs: list[tuple[Arrays, Scored, np.ndarray]]) -> None:
        """Offer several runs in time order at once; the same as offering them one by one."""
        merged = (self.arrays, self.scored) if self.arrays else None
        for arrays, scored, rows in runs:
            offered = _take(arrays, scored, rows)
            merged = offered if merged is None else _concat(merged, offered)
        if merged is not None:
            peaks = first_peak_per_account(merged[0]["account_id"], merged[1].score)
            self.arrays, self.scored = _take(*merged, peaks)
