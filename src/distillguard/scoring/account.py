"""Account evidence, following the attacker's economics.

A distiller needs many reasoning-rich outputs across valuable capabilities, and has to
automate to get them: elicitation of chain of thought or hidden reasoning, round-the-clock
or machine-regular timing, fresh accounts at full speed, addresses that churn. Each rule
is weak alone and designed so that a heavy legitimate user trips at most one or two of them;
the account score is their noisy-OR. The thresholds come from that reasoning, not from
fitting our simulator.
"""

from __future__ import annotations

import numpy as np

from distillguard.profiles.hourly import VALUABLE
from distillguard.scoring.evidence import (
    Arrays,
    Rule,
    Scored,
    hour_entropy,
    noisy_or,
    ramp,
    saturate,
)

HOURS = [f"hod_{k}" for k in range(24)]
# A thin harvest: reported campaigns ran as few as ~6 requests an account a day; under 8 an
# active day counts fully, fading out by 16 (a light heavy user's pace).
THIN_RATE = (8.0, 16.0)
# Exchanges before the window's mean output excess counts fully. Set on two adaptive runs,
# where waiting for 30 missed the thinnest harvests. At 15 the mean's standard error is
# still about 0.4 (one account's per-exchange log ratios spread about 1.5: thinking on or
# off), which is one reason this rule ranks and never flags alone.
THIN_EXCHANGES = (5.0, 15.0)
THIN_HARVEST_WEIGHT = 0.7


def derived(f: Arrays, window_end: np.ndarray) -> dict[str, np.ndarray]:
    """Shares, entropy, regularity and age computed from the window sums."""
    n = np.maximum(f["n"].astype(float), 1.0)
    entropy = hour_entropy(np.stack([f[h].astype(float) for h in HOURS], axis=1))
    gap_n = np.maximum(f["gap_n"].astype(float), 1.0)
    mean = f["gap_sum"] / gap_n
    cv = np.sqrt(np.maximum(f["gap_sq"] / gap_n - mean**2, 0.0)) / np.maximum(mean, 1e-9)
    shares = {c: f[f"cap_{c}"] / n for c in VALUABLE}
    coverage = sum(((shares[c] >= 0.05) & (f[f"cap_{c}"] >= 5)).astype(int) for c in VALUABLE)
    created = f["created_at"]
    known = ~np.isnat(created) if created.dtype.kind == "M" else np.zeros(len(n), dtype=bool)
    age_days = np.where(
        known, (window_end - np.where(known, created, window_end)) / np.timedelta64(1, "D"), np.inf
    )
    return {
        "n": n,
        "entropy": entropy,
        "gap_cv": cv,
        "coverage": coverage.astype(float),
        "elicit_share": f["n_elicit"] / n,
        "trace_share": f["n_trace"] / n,
        "rewrite_share": f["n_rewrite"] / n,
        "rich_share": f["n_rich"] / n,
        "mean_output": f["output_tokens"] / n,
        # Mean log ratio of each exchange's output (with reasoning) to what the population
        # drew for the same capability over the window: 0 is usual, 1 is e times as long.
        "mean_harvest_excess": f["harvest_excess"] / n,
        "daily_rate": f["n"] / np.maximum(f["active_days"].astype(float), 1.0),
        # Distinct prompt skeletons per eliciting exchange (counted per hour, so a template
        # repeated all week counts once an hour): an extractor needs many different prompts,
        # a pipeline repeats one.
        "elicit_variety": f["distinct_elicit"] / np.maximum(f["n_elicit"], 1.0),
        "trace_variety": f["distinct_trace"] / np.maximum(f["n_trace"], 1.0),
        "rewrite_variety": f["distinct_rewrite"] / np.maximum(f["n_rewrite"], 1.0),
        "churn": f["ip_prefixes"] / n,
        "age_days": age_days,
        "light_tier": np.isin(f["tier"].astype(object), ["free", "education"]),
    }


def _d(f: Arrays, name: str) -> np.ndarray:
    return f[name]


RULES: tuple[Rule, ...] = (
    Rule(
        "elicits_reasoning",
        "elicits step-by-step reasoning at volume",
        "collects reasoning traces as training data",
        lambda f: (
            0.85
            * _d(f, "elicit_share")
            * saturate(f["n_elicit"], 60)
            * ramp(f["active_hours"], 12, 48)
            * ramp(_d(f, "mean_output"), 250, 800)
            * ramp(_d(f, "elicit_variety"), 0.1, 0.5)
        ),
        lambda f, i: {
            "eliciting_exchanges": int(f["n_elicit"][i]),
            "exchanges": int(f["n"][i]),
            "share": round(float(_d(f, "elicit_share")[i]), 3),
            "active_hours": int(f["active_hours"][i]),
            "mean_output_tokens": round(float(_d(f, "mean_output")[i])),
        },
    ),
    Rule(
        "extracts_hidden_reasoning",
        "asks the model to reveal or reconstruct its reasoning",
        "harvests reasoning traces the API does not expose",
        lambda f: (
            0.9
            * saturate(f["n_trace"], 15)
            * ramp(_d(f, "trace_share"), 0.03, 0.1)
            * ramp(_d(f, "trace_variety"), 0.1, 0.5)
        ),
        lambda f, i: {
            "trace_requests": int(f["n_trace"][i]),
            "share": round(float(_d(f, "trace_share")[i]), 3),
        },
    ),
    Rule(
        "censorship_rewrites",
        "asks for politically sanitised rewrites",
        "builds censorship-safe alignment data",
        lambda f: (
            0.85
            * saturate(f["n_rewrite"], 5)
            * ramp(_d(f, "rewrite_share"), 0.01, 0.05)
            * ramp(_d(f, "rewrite_variety"), 0.1, 0.5)
        ),
        lambda f, i: {"rewrite_requests": int(f["n_rewrite"][i])},
    ),
    Rule(
        "round_the_clock",
        "sends traffic evenly round the clock",
        "runs unattended automation, not a person or a working day",
        lambda f: (
            0.45 * ramp(_d(f, "entropy"), 0.85, 0.95) * (f["n"] >= 150) * (f["active_hours"] >= 30)
        ),
        lambda f, i: {
            "hour_entropy": round(float(_d(f, "entropy")[i]), 3),
            "active_hours": int(f["active_hours"][i]),
        },
    ),
    Rule(
        "machine_regular",
        "spaces requests at machine-regular intervals",
        "a scheduler load-balances requests across accounts",
        lambda f: 0.6 * ramp(0.5 - _d(f, "gap_cv"), 0.0, 0.3) * (f["gap_n"] >= 40),
        lambda f, i: {
            "inter_arrival_cv": round(float(_d(f, "gap_cv")[i]), 3),
            "gaps": int(f["gap_n"][i]),
        },
    ),
    Rule(
        "new_at_full_speed",
        "a new account already at high volume",
        "a freshly farmed account put straight to work",
        lambda f: 0.35 * (_d(f, "age_days") < 14) * saturate(f["n"], 300),
        lambda f, i: {
            "account_age_days": round(float(_d(f, "age_days")[i]), 1),
            "exchanges": int(f["n"][i]),
        },
    ),
    Rule(
        "broad_rich_coverage",
        "many valuable capabilities with reasoning-rich outputs",
        "samples the model's capabilities systematically",
        lambda f: (
            0.6
            * ramp(_d(f, "coverage"), 2, 5)
            * ramp(_d(f, "rich_share"), 0.2, 0.6)
            * saturate(f["n"], 400)
        ),
        lambda f, i: {
            "capabilities": int(_d(f, "coverage")[i]),
            "rich_share": round(float(_d(f, "rich_share")[i]), 3),
        },
    ),
    Rule(
        "address_churn",
        "comes from many different networks",
        "rotates proxy exits to spread its traffic",
        lambda f: 0.3 * ramp(_d(f, "churn"), 0.3, 0.7) * (f["n"] >= 100),
        lambda f, i: {"network_hours_per_exchange": round(float(_d(f, "churn")[i]), 3)},
    ),
    Rule(
        # Below the account threshold (THIN_HARVEST_WEIGHT): heavy users who happen to
        # have a light week look the same, so alone this ranks accounts for review and only
        # flags with other evidence. It outranks any one generic automation rule, though
        # (round the clock, coverage, churn): a quiet harvest shows nothing else.
        "thin_rich_harvest",
        "a few requests a day, each drawing far longer outputs than usual for its task",
        "spreads a harvest of reasoning-rich outputs thinly to stay under per-account limits",
        lambda f: (
            THIN_HARVEST_WEIGHT
            * ramp(_d(f, "mean_harvest_excess"), 0.8, 1.4)
            * ramp(_d(f, "rich_share"), 0.5, 0.8)
            * ramp(f["n"], *THIN_EXCHANGES)
            * (1.0 - ramp(_d(f, "daily_rate"), *THIN_RATE))
        ),
        lambda f, i: {
            "output_vs_usual_for_task": round(float(np.exp(_d(f, "mean_harvest_excess")[i])), 2),
            "rich_share": round(float(_d(f, "rich_share")[i]), 3),
            "exchanges": int(f["n"][i]),
            "exchanges_per_active_day": round(float(_d(f, "daily_rate")[i]), 1),
        },
    ),
    Rule(
        "light_tier_heavy_use",
        "a free or education account used like a business",
        "a farmed low-verification account",
        lambda f: 0.3 * _d(f, "light_tier") * ramp(f["n"], 300, 1000),
        lambda f, i: {"tier": str(f["tier"][i]), "exchanges": int(f["n"][i])},
    ),
)


# Rules that rank accounts and add to their own score, but are not the evidence a member
# of a linked cluster must show: at larger scale, heavy users linked by popular keys would
# otherwise pass the member floor on a quiet week alone.
RANKING_ONLY = frozenset({"thin_rich_harvest"})


def score_accounts(
    features: Arrays, window_end: np.ndarray
) -> tuple[Scored, dict[str, np.ndarray]]:
    """Scores for every window row, and the arrays (raw and derived) the rules read, with
    `member_score`: the score without the RANKING_ONLY rules, what cluster scoring reads."""
    arrays: dict[str, np.ndarray] = {**features, **derived(features, window_end)}
    scored = noisy_or(RULES, arrays, len(arrays["n"]))
    arrays["member_score"] = scored.score_without(RANKING_ONLY)
    return scored, arrays
