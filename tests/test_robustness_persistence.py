"""The k-th tick score behind benchmarks/robustness/persistence.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from benchmarks.robustness import judging, persistence
from benchmarks.robustness.worlds import World

from distillguard.scoring.combiner import shipped
from distillguard.scoring.followers import FollowRule
from tests.given_combiner import given_combiner

TICKS = ["b", "a", "b", "a", "c", "b"]
P = np.array([0.2, 0.9, 0.7, 0.95, 0.5, 0.99])


def _world() -> World:
    accounts = pa.table({"account_id": ["a", "b", "c", "d"]})
    return World(accounts, pa.table({"account_id": TICKS}))


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (1, [0.95, 0.99, 0.5, 0.0]),  # the peak, as detect reports it
        (2, [0.9, 0.7, 0.0, 0.0]),  # c has one tick, d none
        (3, [0.0, 0.2, 0.0, 0.0]),
    ],
)
def test_the_kth_highest_tick_probability_per_account(k: int, expected: list[float]) -> None:
    assert _world().combiner_scores(P, k).tolist() == expected


def _linked_world() -> World:
    """Two ticks; a, b and c linked in group 0 at both; d alone."""
    accounts = pa.table({"account_id": ["a", "b", "c", "d"]})
    ticks = pa.table(
        {
            "account_id": ["a", "b", "c", "d"] * 2,
            "tick": [1, 1, 1, 1, 2, 2, 2, 2],
            "cluster": [0, 0, 0, -1] * 2,
        }
    )
    return World(accounts, ticks)


RULE = FollowRule(min_flagged=1, min_share=0.3, floor=0.8)


@pytest.mark.parametrize(
    ("p", "k", "lone_line", "expected"),
    [
        # a crosses at both ticks and b follows; d crosses once, alone
        ([0.99, 0.85, 0.1, 0.99, 0.99, 0.85, 0.1, 0.2], 1, None, [True, True, False, True]),
        ([0.99, 0.85, 0.1, 0.99, 0.99, 0.85, 0.1, 0.2], 2, None, [True, True, False, False]),
        # a crosses once: with two ticks nobody is flagged, so nobody follows
        ([0.99, 0.85, 0.1, 0.2, 0.5, 0.85, 0.1, 0.2], 2, None, [False, False, False, False]),
        # d alone crosses 0.95 at both ticks: flagged unless its lone line is higher
        ([0.99, 0.85, 0.1, 0.99, 0.99, 0.85, 0.1, 0.97], 2, None, [True, True, False, True]),
        ([0.99, 0.85, 0.1, 0.99, 0.99, 0.85, 0.1, 0.97], 2, 0.95, [True, True, False, True]),
        ([0.99, 0.85, 0.1, 0.99, 0.99, 0.85, 0.1, 0.97], 2, 0.98, [True, True, False, False]),
        ([0.99, 0.85, 0.1, 0.99, 0.99, 0.85, 0.1, 0.97], 1, 0.98, [True, True, False, True]),
        ([0.99, 0.85, 0.1, 0.99, 0.99, 0.85, 0.1, 0.97], 1, 2.0, [True, True, False, False]),
    ],
)
def test_flags_at_the_kth_tick_with_followers(
    p: list[float], k: int, lone_line: float | None, expected: list[bool]
) -> None:
    flagged = _linked_world().combiner_flagged(np.array(p), 0.95, RULE, k, lone_line)
    assert flagged.tolist() == expected


def _fit_table(benign: list[float]) -> pa.Table:
    n = len(benign)
    return pa.table(
        {
            "score": benign,
            "group": ["benign"] * n,
            "population": ["power-users"] * n,
        }
    )


def test_several_fit_folders_keep_the_highest_threshold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each folder's own lowest fitting threshold, then the highest of them per k."""
    lower = np.linspace(0.0, 0.9, 1000).tolist()  # 1,000 benign accounts
    higher = [s / 2 + 0.5 for s in lower]  # the same ranks, higher scores
    worlds = {Path("low"): lower, Path("high"): higher}

    def scored(folder: Path, *_: object) -> persistence.Scored:
        return {(1, False): [_fit_table(worlds[folder])]}

    monkeypatch.setattr(persistence, "scored_tables", scored)
    alone = {f: persistence.fit_thresholds([f], shipped(), [1])[1] for f in worlds}
    both = persistence.fit_thresholds(list(worlds), shipped(), [1])[1]
    assert alone[Path("high")] > alone[Path("low")]
    assert both == alone[Path("high")]


def _group_and_loner() -> World:
    """Two ticks: a, b, c and e in group 0 (a, b, c over the flag line at both, e over the
    follow floor); d alone, over the line at both."""
    accounts = pa.table({"account_id": ["a", "b", "c", "d", "e"]})
    ticks = pa.table(
        {
            "account_id": ["a", "b", "c", "d", "e"] * 2,
            "tick": [1] * 5 + [2] * 5,
            "cluster": [0, 0, 0, -1, 0] * 2,
            "p": [0.99, 0.99, 0.99, 0.99, 0.92] * 2,
        }
    )
    return World(accounts, ticks)


@pytest.mark.parametrize(
    ("decider", "lone", "flagged"),
    [
        # a lone line over d's 0.99: d is held under the flag line; e follows its group
        ("combiner", 0.995, [True, True, True, False, True]),
        ("combiner", 0.99, [True, True, True, True, True]),  # d reaches the lone line
        ("combiner", None, [True, True, True, True, True]),  # no lone line: the flag line
        # every tick at the flag line (--combiner-flag-lone at --combiner-flag): d flagged
        ("combiner-lone", 0.995, [True, True, True, True, True]),
        # its own estimates alone: no followers, d counted
        ("combiner-alone", 0.995, [True, True, True, True, False]),
    ],
)
def test_the_combiner_deciders_flag_lone_accounts_as_detect_does(
    decider: str, lone: float | None, flagged: list[bool]
) -> None:
    lines = {"flag": 0.95, "review": 0.9}
    combiner = given_combiner()
    table = judging.scored(_group_and_loner(), decider, combiner, lines["flag"], 2, lone=lone)
    score = table["score"].to_numpy()
    assert (score >= lines["flag"]).tolist() == flagged
    assert (score >= lines["review"]).all()  # all listed for review, d included
