"""Each account's peak row: offered run by run or all at once, the same rows."""

from __future__ import annotations

import numpy as np

from distillguard.detect.best import BestRows, first_peak_per_account
from distillguard.scoring.evidence import Scored


def _run(seed: int) -> tuple[dict[str, np.ndarray], Scored, np.ndarray]:
    rng = np.random.default_rng(seed)
    accounts = np.sort(rng.choice(np.array(["a", "b", "c", "d"], dtype=object), 30))
    score = rng.choice([0.1, 0.5, 0.9], 30)  # few values, so ties are common
    arrays = {"account_id": accounts, "order": seed * 100 + np.arange(30)}
    return arrays, Scored(score, {"rule": score / 2}), np.flatnonzero(rng.random(30) < 0.8)


def test_update_many_equals_update_one_in_a_loop() -> None:
    runs = [_run(seed) for seed in range(5)]
    loop, batch = BestRows(), BestRows()
    for run in runs:
        loop.update_one(*run)
    batch.update_many(runs)
    assert loop.arrays.keys() == batch.arrays.keys()
    assert all(np.array_equal(loop.arrays[k], batch.arrays[k]) for k in loop.arrays)
    assert np.array_equal(loop.scored.score, batch.scored.score)
    assert np.array_equal(loop.scored.strengths["rule"], batch.scored.strengths["rule"])


def test_the_peak_is_the_first_highest_row_of_all_runs() -> None:
    runs = [_run(seed) for seed in range(5)]
    best = BestRows()
    best.update_many(runs)
    rows = [
        (str(a), float(s), int(o))
        for arrays, scored, offered in runs
        for a, s, o in zip(
            arrays["account_id"][offered],
            scored.score[offered],
            arrays["order"][offered],
            strict=True,
        )
    ]
    for account, score, order in zip(
        best.arrays["account_id"], best.scored.score, best.arrays["order"], strict=True
    ):
        mine = [(s, o) for a, s, o in rows if a == account]
        top = max(s for s, _ in mine)
        assert score == top
        assert order == min(o for s, o in mine if s == top)


def test_no_rows_no_peaks() -> None:
    assert len(first_peak_per_account(np.zeros(0, object), np.zeros(0))) == 0
