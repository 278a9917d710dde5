"""Evaluation metrics as a person reads them (markdown), and the files evaluate writes."""

from __future__ import annotations

import math
from pathlib import Path

from distillguard.evaluate.metrics import CAUGHT_SHARE, Metrics
from distillguard.evaluate.operating_point import OperatingPoint, TierRates
from distillguard.store.atomic import write_bytes


def markdown(m: Metrics) -> str:
    lines = [
        f"accounts: {m.attack_accounts:,} attack, {m.benign_accounts:,} benign"
        + _unlabelled_note(m.unlabelled_accounts)
        + _unscored_note(m.labelled_without_traffic),
        "",
        "| metric | value |",
        "|---|---:|",
        f"| account recall | {_shown(m.recall, '.3f')} |",
        f"| account precision | {_shown(m.precision, '.3f')} |",
        f"| benign false-positive rate | {_shown(m.false_positive_rate, '.4%')} |",
        "",
        "| benign population | accounts | false-positive rate |",
        "|---|---:|---:|",
        *(
            f"| {p} | {m.benign_accounts_by_population[p]:,} | {r:.3%} |"
            for p, r in m.false_positive_rate_by_population.items()
        ),
        "",
        "| campaign | accounts | flagged | recall | caught | leakage | hours to first flag "
        "| median hours to flag | accounts burned per 1k exchanges | leakage to review |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for c in m.campaigns:
        first = "-" if c.hours_to_first_flag is None else f"{c.hours_to_first_flag:.1f}"
        median = "-" if c.median_hours_to_flag is None else f"{c.median_hours_to_flag:.1f}"
        lines.append(
            f"| {c.campaign} | {c.accounts:,} | {c.flagged:,} | {_shown(c.recall, '.3f')} "
            f"| {'yes' if c.caught else 'no'} | {_shown(c.leakage, '.1%')} | {first} | {median} "
            f"| {c.accounts_burned_per_1000:.2f} | {_shown(c.review_leakage, '.1%')} |"
        )
    lines += ["", HOURS_LEGEND]
    review = _review_lines(m.review_tier)
    return "\n".join(lines + review + _operating_point_lines(m.at_budget)) + "\n"


# The two clocks differ in where they start, so their figures can cross (a campaign's
# first flag can come later after its start than its median account's after its own).
HOURS_LEGEND = (
    "Hours to first flag: from the campaign's first exchange to its first flagged account."
    " Median hours to flag: over its flagged accounts, from each account's own first"
    " exchange to its flag."
)


def _shown(value: float, spec: str) -> str:
    """A rate as text; one with nothing to count (no attack account, no flag) is n/a."""
    return "n/a" if math.isnan(value) else format(value, spec)


def _unlabelled_note(n: int) -> str:
    if not n:
        return ""
    return (
        f" (warning: {n:,} account(s) of the run have no label and are left out of every "
        "figure: are these the labels of this traffic?)"
    )


def _unscored_note(n: int) -> str:
    if not n:
        return ""
    return f" ({n:,} labelled account(s) sent no exchange in this run and are not counted)"


def _review_lines(t: TierRates) -> list[str]:
    caught = [
        f"{c} recall {r:.3f} ({'caught' if r > CAUGHT_SHARE else 'not caught'})"
        for c, r in t.recall_by_campaign.items()
    ]
    rates = [f"{g} FPR {r:.3%}" for g, r in t.false_positive_rate_by_population.items()]
    return [
        "",
        "Flagged or listed for review (the threshold detect ran with): "
        f"recall {_shown(t.recall, '.3f')}, "
        f"benign false-positive rate {_shown(t.false_positive_rate, '.3%')}; "
        + "; ".join(caught + rates),
    ]


def _operating_point_lines(p: OperatingPoint) -> list[str]:
    rates = [f"{c} recall {r:.3f}" for c, r in p.recall_by_campaign.items()]
    rates += [f"{g} FPR {r:.3%}" for g, r in p.false_positive_rate_by_population.items()]
    return [
        "",
        f"Ranking by score, at a {p.false_positive_budget:.0%} false-positive budget "
        f"({_threshold_words(p.threshold)}; not what was flagged): "
        f"recall {_shown(p.recall, '.3f')}, "
        f"benign false-positive rate {_shown(p.false_positive_rate, '.3%')}; " + "; ".join(rates),
    ]


def _threshold_words(threshold: float) -> str:
    if math.isinf(threshold):
        return "no score threshold fits: the benign accounts at the top score already exceed it"
    return f"accounts scoring >= {threshold:.4f}"


def write_metrics(metrics: Metrics, out: Path) -> None:
    write_bytes(out / "metrics.json", (metrics.to_json() + "\n").encode())
    write_bytes(out / "metrics.md", markdown(metrics).encode())
