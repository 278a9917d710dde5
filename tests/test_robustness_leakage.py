"""Leakage on the judged worlds (benchmarks/robustness/leakage.py): exchanges served before
the tick that flagged an account, per campaign, and its summary over worlds."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from benchmarks.robustness.leakage import CampaignLeak, leakage_summary, pooled, world_leakage
from benchmarks.robustness.report import markdown

H = np.timedelta64(1, "h")
T0 = np.datetime64("2026-02-01T00:00", "us")
ACCOUNTS = pa.table({"account_id": ["a", "b", "c", "x"], "campaign": ["r", "r", "q", None]})
# a: 2 exchanges at hour 0, 3 at hour 6; b: 5 at hour 1; c: 4 at hour 2; x is benign
TRAFFIC = pa.table(
    {
        "account_id": ["a", "a", "b", "c"],
        "hour": np.array([T0, T0 + 6 * H, T0 + H, T0 + 2 * H]),
        "n": [2, 3, 5, 4],
    }
)


@pytest.mark.parametrize(
    ("acted", "expected"),
    [
        # nobody flagged: everything served, no first flag
        ({}, {"q": (4, 4, None), "r": (10, 10, None)}),
        # a flagged at the tick of hour 6: its hour-6 exchanges come after (not served)
        ({"a": T0 + 6 * H}, {"q": (4, 4, None), "r": (10, 7, 6.0)}),
        # a tick at the end of an exchange's hour serves it; b's first flag counts from r's
        # first hour (0), not b's
        ({"a": T0 + H, "b": T0 + 2 * H}, {"q": (4, 4, None), "r": (10, 7, 1.0)}),
        # flagged before its first exchange: nothing served, caught 2 hours before it came
        ({"c": T0}, {"q": (4, 0, -2.0), "r": (10, 10, None)}),
        # a benign account's flag changes no campaign
        ({"x": T0}, {"q": (4, 4, None), "r": (10, 10, None)}),
    ],
)
def test_leakage_per_campaign(
    acted: dict[str, np.datetime64], expected: dict[str, tuple[int, int, float | None]]
) -> None:
    leaks = world_leakage(TRAFFIC, ACCOUNTS, acted)
    assert {c: (x.exchanges, x.leaked, x.hours_to_first) for c, x in leaks.items()} == expected


def test_attack_traffic_of_an_account_in_no_campaign_is_refused() -> None:
    stray = pa.table({"account_id": ["a", "z"], "hour": np.array([T0, T0]), "n": [1, 1]})
    with pytest.raises(ValueError, match="in no campaign"):
        world_leakage(stray, ACCOUNTS, {})


def test_reported_leakage_pools_exchanges_not_campaigns() -> None:
    leaks = {"r": CampaignLeak(10, 1, 3.0), "q": CampaignLeak(90, 45, 1.0)}
    assert pooled(leaks, frozenset({"r", "q"})) == pytest.approx(46 / 100)
    assert pooled(leaks, frozenset({"r"})) == pytest.approx(0.1)
    assert math.isnan(pooled(leaks, frozenset({"z"})))


def test_summary_takes_the_highest_as_worst_and_hours_where_a_flag_came() -> None:
    per_world = {
        1: {"r": CampaignLeak(10, 1, 3.0), "q": CampaignLeak(10, 10, None)},
        2: {"r": CampaignLeak(10, 5, 9.0), "q": CampaignLeak(10, 2, 4.0)},
        3: {"r": CampaignLeak(10, 3, 5.0)},
    }
    summary = leakage_summary(per_world, frozenset({"r"}))
    assert summary["reported"] == {"median": pytest.approx(0.3), "worst": pytest.approx(0.5)}
    assert summary["campaigns"]["q"]["leakage"] == {"median": 0.6, "worst": 1.0}
    assert summary["campaigns"]["q"]["hours_to_first"] == {"median": 4.0, "worst": 4.0}
    assert summary["campaigns"]["r"]["hours_to_first"] == {"median": 5.0, "worst": 9.0}
    assert [w["seed"] for w in summary["per_world"]] == [1, 2, 3]
    kept = summary["per_world"][1]["campaigns"]["q"]  # counts kept, to pool them again later
    assert kept == {"exchanges": 10, "leaked": 2, "hours_to_first": 4.0, "leakage": 0.2}


def _record(leakage: dict[str, object] | None) -> dict[str, object]:
    stats = {"median": 0.9, "worst": 0.5}
    tier = {
        "threshold": 0.99,
        "frozen": {
            "recall": {"reported": stats, "adaptive": stats},
            "false_positive_rate": {"median": 0.001, "worst": 0.002},
            "worst_population_fpr": {"median": 0.001, "worst": 0.002},
            "campaigns": {"r": {**stats, "caught_in": 1}},
        },
        "ranked": {"0.1%": {"reported": stats, "adaptive": stats}},
        "pooled_population_fpr": {"casual": 0.0},
        **({"leakage": leakage} if leakage else {}),
    }
    frozen = {"model": {}, "fit_seeds": [1], "frozen_at": "t", "commit": "c"}
    return {
        "frozen": frozen,
        "seeds": [1],
        "drawn_at": "t",
        "combiner": {"flag": tier, "review": tier},
    }


def test_the_report_shows_leakage_only_where_worlds_kept_traffic() -> None:
    leaks = leakage_summary({1: {"r": CampaignLeak(10, 2, 7.0)}}, frozenset({"r"}))
    shown = markdown(_record(leaks))
    assert "| reported, pooled | 20.00% / 20.00% | - | 20.00% / 20.00% | - |" in shown
    assert "| r | 20.00% / 20.00% | 7 / 7 | 20.00% / 20.00% | 7 / 7 |" in shown
    assert "leakage" not in markdown(_record(None))
