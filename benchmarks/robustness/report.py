"""The robustness benchmark's result as Markdown tables."""

from __future__ import annotations

from typing import Any

from benchmarks.robustness.settings import PRESET_DAYS, size_text

TIERS = ("flag", "review")


def pair(stats: dict[str, float]) -> str:
    if not stats:
        return "-"
    return f"{stats['median']:.3f} / {stats['worst']:.3f}"


def pct(stats: dict[str, float]) -> str:
    if not stats:
        return "-"
    return f"{stats['median']:.2%} / {stats['worst']:.2%}"


def _worlds(record: dict[str, Any]) -> str:
    """Which worlds: fresh ones drawn for this judge, or an earlier judge's, re-scored."""
    n, drawn = len(record["seeds"]), record["drawn_at"]
    if "rejudged_from" in record:
        return (
            f"re-scored on the {n} worlds of an earlier judge ({record['rejudged_from']}, "
            f"seeds drawn at {drawn}), as cached then: judged before, so a comparison, "
            "not fresh evidence"
        )
    return f"judged on {n} fresh worlds, seeds drawn at {drawn}"


# Who each combiner decider is: a record of 2026-12-03 named detect's decider then (lone
# accounts flagged at the flag line) `combiner` and the one that never flags a lone
# account `combiner-linked`; since, `combiner` is detect's (lone accounts at the frozen
# lone line) and `combiner-lone` the one with every tick at the flag line.
DECIDERS_THEN = (
    "- rules: the hand-set rules (`--decide-by rules`); combiner: the learned combiner as"
    " detect ran it then, its linked groups' followers flagged too; combiner-linked: the"
    " same, but an account flagged on its own only by its ticks in a linked group (a lone"
    " one over the line is listed for review); combiner-alone: its own estimates only;"
    " baseline: an earlier model given with --baseline."
)
DECIDERS_NOW = (
    "- rules: the hand-set rules (`--decide-by rules`); combiner: the learned combiner as"
    " detect runs it: an account flagged on its own at the flag line by its ticks in a"
    " linked group, or at the lone line by any (`combiner_flag_lone` of the frozen"
    " thresholds; an account over the flag line and not flagged is listed for review), its"
    " linked groups' followers flagged too; combiner-lone: the same with every tick at the"
    " flag line (detect before cf67580); combiner-alone: its own estimates only;"
    " baseline: an earlier model given with --baseline."
)
DECIDER_ORDER = (
    *("rules", "combiner", "combiner-lone", "combiner-linked", "combiner-alone"),
    "baseline",
)
LEGEND = (
    "- flag / review: accounts at or over the tier's frozen threshold (review: flagged or"
    " listed for review).",
    "- reported: the campaigns of the February 2026 reports (reasoning, agentic, hydra);"
    " adaptive: every other campaign. Recall is over a world's attack accounts.",
    "- benign FPR: flagged benign accounts / benign accounts; a small population's one account"
    " can be 2-4% of it. caught in: worlds where over half the campaign's accounts are over"
    " the threshold.",
)


def _size(record: dict[str, Any]) -> str:
    """The worlds' size and length, as the record keeps them (days: the preset's if not
    given; records before 2026-12-02 kept no days)."""
    size = size_text(record.get("scale"), record.get("max_scale"))
    if "days" not in record:
        return f"{size}, days not recorded"
    return f"{size}, {record['days'] or PRESET_DAYS} days"


def _declaring(record: dict[str, Any]) -> str:
    """A stress test's note: the campaigns made to declare organisations."""
    share = record.get("campaigns_declare")
    if share is None:
        return ""
    return f"; a stress test: each campaign card group declares an organisation (chance {share})"


def _header(record: dict[str, Any]) -> list[str]:
    frozen = record["frozen"]
    seeds = ", ".join(str(s) for s in record["seeds"])
    fresh = "" if "rejudged_from" in record else "fresh "
    return [
        f"Combiner trained on seeds {frozen['model'].get('train_seeds')} (held out "
        f"{frozen['model'].get('held_out_seed')}); thresholds frozen on seeds "
        f"{frozen['fit_seeds']} at {frozen['frozen_at']} (commit {frozen['commit']}); "
        f"{_worlds(record)}: {seeds}"
        f"; prompt text from {record.get('corpus') or 'the simulator grammar'}"
        f"; {_size(record)}{_declaring(record)}.",
        "",
        f"Median / worst over the {fresh}worlds (for false-positive rates the worst is the "
        "highest).",
        "",
        DECIDERS_THEN if "combiner-linked" in record else DECIDERS_NOW,
        *LEGEND,
        "",
        "| decider, tier (frozen threshold) | reported recall | adaptive recall | benign FPR "
        "| worst benign population's FPR |",
        "|---|---:|---:|---:|---:|",
    ]


def _tier_row(decider: str, tier: str, r: dict[str, Any]) -> str:
    f = r["frozen"]
    return (
        f"| {decider}, {tier} (score >= {r['threshold']:.4f}) | {pair(f['recall']['reported'])} "
        f"| {pair(f['recall']['adaptive'])} | {pct(f['false_positive_rate'])} "
        f"| {pct(f['worst_population_fpr'])} |"
    )


def markdown(record: dict[str, Any]) -> str:
    deciders = [d for d in DECIDER_ORDER if d in record]
    lines = _header(record)
    lines += [_tier_row(d, t, record[d][t]) for d in deciders for t in TIERS]
    lines += [
        "",
        "| decider: ranking within a budget (threshold chosen per world with its labels) "
        "| reported recall | adaptive recall |",
        "|---|---:|---:|",
    ]
    for d in deciders:
        for budget, groups in record[d]["flag"]["ranked"].items():
            lines.append(
                f"| {d}: {budget} | {pair(groups['reported'])} | {pair(groups['adaptive'])} |"
            )
    worlds = len(record["seeds"])
    for d in deciders:
        lines += [
            "",
            f"{d}: | campaign | flag recall | caught in | review recall | caught in |",
            "|---|---|---:|---:|---:|---:|".replace("|---|---|", "|---|"),
        ]
        lines[-2] = "| campaign | flag recall | caught in | review recall | caught in |"
        lines.insert(len(lines) - 2, f"**{d}**, per campaign (median / worst):")
        lines.insert(len(lines) - 2, "")
        for c, s in record[d]["flag"]["frozen"]["campaigns"].items():
            rv = record[d]["review"]["frozen"]["campaigns"][c]
            lines.append(
                f"| {c} | {pair(s)} | {s['caught_in']}/{worlds} | {pair(rv)} "
                f"| {rv['caught_in']}/{worlds} |"
            )
    for d in ("combiner", "combiner-lone", "combiner-linked"):
        lines += _leakage_lines(d, record.get(d, {}))
    for d in deciders:
        lines += [
            "",
            f"**{d}**, benign populations pooled over the worlds:",
            "",
            "| benign population | flag FPR | review FPR |",
            "|---|---:|---:|",
        ]
        review = record[d]["review"]["pooled_population_fpr"]
        for p, rate in record[d]["flag"]["pooled_population_fpr"].items():
            lines.append(f"| {p} | {rate:.2%} | {review[p]:.2%} |")
    return "\n".join(lines) + "\n"


def _hours(stats: dict[str, float]) -> str:
    return f"{stats['median']:.0f} / {stats['worst']:.0f}" if stats else "never"


def _leakage_lines(decider: str, combiner: dict[str, Any]) -> list[str]:
    """A combiner decider's leakage per campaign, where the worlds kept their traffic."""
    if "leakage" not in combiner.get("flag", {}):
        return []
    flag, review = combiner["flag"]["leakage"], combiner["review"]["leakage"]
    lines = [
        "",
        f"**{decider}**, leakage: the share of a campaign's exchanges served before its"
        " accounts were flagged (review: flagged or listed), and hours from its first"
        " exchange to its first flag or listing (median / worst over the worlds; worst is"
        " the highest; hours over the worlds where it came):",
        "",
        "| campaign | flag leakage | hours to first flag | review leakage | hours to first"
        " listing |",
        "|---|---:|---:|---:|---:|",
        f"| reported, pooled | {pct(flag['reported'])} | - | {pct(review['reported'])} | - |",
    ]
    for c, s in flag["campaigns"].items():
        r = review["campaigns"][c]
        lines.append(
            f"| {c} | {pct(s['leakage'])} | {_hours(s['hours_to_first'])} "
            f"| {pct(r['leakage'])} | {_hours(r['hours_to_first'])} |"
        )
    return lines
