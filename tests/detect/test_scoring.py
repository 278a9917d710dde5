"""Table-driven checks of the scoring building blocks and the account rules."""

from __future__ import annotations

import numpy as np
import pytest

from distillguard.detect.config import DetectConfig
from distillguard.profiles.hourly import SUM_COLUMNS
from distillguard.scoring import account
from distillguard.scoring.evidence import hour_entropy, noisy_or, ramp, saturate

THRESHOLD = DetectConfig().account_threshold


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (np.ones(24), 1.0),
        (np.eye(24)[3] * 50, 0.0),
        (np.r_[np.ones(12), np.zeros(12)], np.log(12) / np.log(24)),
    ],
)
def test_hour_entropy(hours: np.ndarray, expected: float) -> None:
    assert hour_entropy(hours[None, :])[0] == pytest.approx(expected)


def test_ramp_and_saturate() -> None:
    assert ramp(np.array([0.0, 5.0, 10.0, 20.0]), 5, 15).tolist() == [0.0, 0.0, 0.5, 1.0]
    assert saturate(np.array([0.0]), 10)[0] == 0.0
    assert saturate(np.array([10.0]), 10)[0] == pytest.approx(1 - np.exp(-1))


def _features(rows: int, **values: float) -> dict[str, np.ndarray]:
    f = {c: np.zeros(rows) for c in SUM_COLUMNS}
    f.update({f"hod_{h}": np.zeros(rows) for h in range(24)})
    f.update(
        {
            "active_hours": np.zeros(rows),
            "active_days": np.zeros(rows),
            "created_at": np.full(rows, np.datetime64("NaT"), dtype="datetime64[us]"),
            "tier": np.array(["paid"] * rows, dtype=object),
        }
    )
    for name, value in values.items():
        f[name] = np.full(rows, value)
    return f


PROFILES = [
    # (case, features, flagged on its own?)
    (
        "light chat user",
        {"n": 20, "hod_10": 10, "hod_20": 10, "active_hours": 8, "cap_chat": 20},
        False,
    ),
    (
        "judge pipeline, short outputs, round the clock",
        {
            "n": 5000,
            **{f"hod_{h}": 5000 / 24 for h in range(24)},
            "n_elicit": 5000,
            "n_grading": 5000,
            "output_tokens": 5000 * 120,
            "active_hours": 168,
        },
        False,
    ),
    (
        "reasoning harvest: elicits, extracts, rewrites, regular timing",
        {
            "n": 800,
            **{f"hod_{h}": 800 / 24 for h in range(24)},
            "n_elicit": 600,
            "n_trace": 160,
            "n_rewrite": 100,
            "output_tokens": 800 * 1500,
            "active_hours": 160,
            "gap_n": 790,
            "gap_sum": 790 * 600.0,
            "gap_sq": 790 * 600.0**2 * 1.01,
            "distinct_elicit": 550,
            "distinct_trace": 120,
            "distinct_rewrite": 90,
        },
        True,
    ),
    (
        "one sanitising template repeated by a pipeline all week",
        {
            "n": 6000,
            **{f"hod_{h}": 6000 / 24 for h in range(24)},
            "n_rewrite": 6000,
            "distinct_rewrite": 168,
            "output_tokens": 6000 * 300,
            "active_hours": 168,
        },
        False,
    ),
]


@pytest.mark.parametrize(("case", "values", "flagged"), PROFILES, ids=[p[0] for p in PROFILES])
def test_account_rules(case: str, values: dict[str, float], flagged: bool) -> None:
    f = _features(1, **values)
    scored, arrays = account.score_accounts(f, np.array([np.datetime64("2026-02-10T00:00")]))
    assert (scored.score[0] >= THRESHOLD) == flagged, scored.evidence(account.RULES, arrays, 0)
    for e in scored.evidence(account.RULES, arrays, 0):
        assert e.observed and 0 < e.confidence < 1


def test_noisy_or_of_no_rules_is_zero() -> None:
    assert noisy_or((), {}, 3).score.tolist() == [0.0, 0.0, 0.0]


def _quiet(n: float, days: float, excess: float, rich: float) -> dict[str, float]:
    """An account's window: n exchanges over `days` active days, each drawing `excess`
    (mean log ratio to the usual for its task), `rich` of them reasoning-rich."""
    return {
        "n": n,
        "active_days": days,
        "active_hours": days * 4,
        "harvest_excess": excess * n,
        "n_rich": rich * n,
        "hod_10": n,
    }


THIN_HARVEST = [
    # (case, features, lowest strength, highest strength)
    ("quiet harvester: 6 a day, 4x usual length", _quiet(42, 7, 1.4, 0.9), 0.7, 0.7),
    ("half as strong: 2.5x usual length", _quiet(42, 7, 1.1, 0.9), 0.34, 0.36),
    ("half as strong: 12 a day", _quiet(84, 7, 1.4, 0.9), 0.34, 0.36),
    ("usual lengths", _quiet(42, 7, 0.0, 0.9), 0.0, 0.0),
    ("long outputs but few reasoning-rich", _quiet(42, 7, 1.4, 0.3), 0.0, 0.0),
    ("too few exchanges to say", _quiet(4, 2, 1.6, 1.0), 0.0, 0.0),
    ("a dozen exchanges: most of the way", _quiet(12, 3, 1.6, 1.0), 0.48, 0.5),
    ("heavy user, 40 a day: other rules' business", _quiet(280, 7, 1.6, 1.0), 0.0, 0.0),
]


@pytest.mark.parametrize(
    ("case", "values", "low", "high"), THIN_HARVEST, ids=[c[0] for c in THIN_HARVEST]
)
def test_thin_rich_harvest(case: str, values: dict[str, float], low: float, high: float) -> None:
    scored, arrays = account.score_accounts(
        _features(1, **values), np.array([np.datetime64("2026-02-10T00:00")])
    )
    strength = scored.strengths["thin_rich_harvest"][0]
    assert low <= strength <= high
    assert scored.score[0] < THRESHOLD  # weak on purpose: never flags an account on its own
    assert arrays["member_score"][0] == 0.0  # nor counts as a cluster member's own evidence
    if strength:
        facts = next(
            e for e in scored.evidence(account.RULES, arrays, 0) if e.code == "thin_rich_harvest"
        ).observed
        assert facts["output_vs_usual_for_task"] == pytest.approx(
            np.exp(values["harvest_excess"] / values["n"]), rel=0.01
        )


def test_ranking_only_rules_exist_and_member_score_leaves_only_them_out() -> None:
    assert account.RANKING_ONLY.issubset(r.code for r in account.RULES)
    f = _features(1, **{**_quiet(42, 7, 1.4, 0.9), "n_trace": 20, "distinct_trace": 20})
    scored, arrays = account.score_accounts(f, np.array([np.datetime64("2026-02-10T00:00")]))
    trace = scored.strengths["extracts_hidden_reasoning"][0]
    assert trace > 0 and scored.strengths["thin_rich_harvest"][0] > 0
    assert arrays["member_score"][0] == pytest.approx(trace)
    assert scored.score[0] > arrays["member_score"][0]


def test_a_quiet_harvest_outranks_one_generic_automation_rule() -> None:
    """At a review budget, a thin harvest (which shows nothing else) must rank above a heavy
    user tripping one generic rule, or that user's population fills the budget first."""
    caps = ("coding", "agentic", "reasoning", "data_analysis", "vision")
    broad = {"n": 2000.0, "n_rich": 1400.0, **{f"cap_{c}": 400.0 for c in caps}}
    heavy = {"n": 400.0, **{f"hod_{h}": 400 / 24 for h in range(24)}, "active_hours": 168.0}
    rows = [_quiet(42, 7, 1.4, 0.9), broad, heavy]
    f = _features(len(rows))
    for i, row in enumerate(rows):
        for name, value in row.items():
            f[name][i] = value
    scored, _ = account.score_accounts(f, np.array([np.datetime64("2026-02-10T00:00")] * 3))
    assert scored.strengths["broad_rich_coverage"][1] > 0.55
    assert scored.strengths["round_the_clock"][2] > 0.4
    assert scored.score[0] > max(scored.score[1], scored.score[2])
