"""How much the judged figures lean on one input of the combiner.

    python -m benchmarks.robustness.ablate FEATURE VALUE --judge DIR [--frozen FILE]

The shipped model is scored, at the thresholds that judge was scored at (its record's, or
--frozen FILE's), on the worlds the judge in DIR cached, three ways: as they are; with
FEATURE set to VALUE at every tick of every attack account (what an attacker could do to
that input if it is cheap to change, such as declaring an organisation); and with FEATURE
set to VALUE at every tick of every benign account (how much benign accounts' figures
rest on it). A feature that only the simulator makes differ between the classes shows
here as recall lost or benign flags gained. The labels choose whose rows change; the
model never sees them.

This is a comparison on worlds already looked at, never fresh evidence.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from benchmarks.robustness.judging import (
    JUDGED,
    flag_ticks,
    frozen_for_shipped,
    judged,
    read_judge,
    scored,
)
from benchmarks.robustness.report import pair, pct
from benchmarks.robustness.train import NOT_FEATURES
from benchmarks.robustness.worlds import World, cached_world
from distillguard.scoring.combiner import shipped

WHOSE = ("none", "attack", "benign")


def with_feature(world: World, feature: str, value: float, whose: str) -> World:
    """The world with `feature` set to `value` on the tick rows of `whose` accounts."""
    if whose == "none":
        return world
    features = [n for n in world.ticks.column_names if n not in NOT_FEATURES]
    if feature not in features:
        raise SystemExit(f"unknown feature {feature!r}; the world's ticks hold: "
                         + ", ".join(features))  # fmt: skip
    group = dict(zip(world.accounts["account_id"].to_pylist(),
                     world.accounts["group"].to_pylist(), strict=True))  # fmt: skip
    ids = world.ticks["account_id"].to_pylist()
    if missing := set(ids) - set(group):
        raise SystemExit(
            f"{len(missing)} account(s) at the ticks have no label, e.g. {min(missing)}"
        )
    chosen = np.array([(group[a] == "benign") == (whose == "benign") for a in ids])
    column = world.ticks[feature]
    changed = pa.array(np.where(chosen, value, column.to_numpy()), type=column.type)
    at = world.ticks.column_names.index(feature)
    return replace(world, ticks=world.ticks.set_column(at, feature, changed))


def figures(worlds: dict[int, World], frozen: dict[str, Any]) -> dict[str, Any]:
    """The combiner's flag-tier figures (with its followers, as detect runs it)."""
    seeds, k = list(worlds), flag_ticks(frozen)
    thresholds = frozen[JUDGED["combiner"]]
    flag = thresholds["flag"]
    table = pa.concat_tables([scored(worlds[s], "combiner", shipped(), flag, k) for s in seeds])
    result = judged(table, seeds, {"flag": flag})["flag"]
    if not isinstance(result, dict):
        raise TypeError("judged returns a dict per tier")
    return result


def line(whose: str, result: dict[str, Any]) -> str:
    frozen = result["frozen"]
    recall = frozen["recall"]
    pooled = result["pooled_population_fpr"]
    worst = max(pooled.items(), key=lambda kv: kv[1]) if pooled else ("-", 0.0)
    return (
        f"| {whose} | {pair(recall['reported'])} | {pair(recall['adaptive'])} "
        f"| {pct(frozen['false_positive_rate'])} | {worst[0]} {worst[1]:.2%} |"
    )


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("feature")
    parser.add_argument("value", type=float)
    parser.add_argument("--judge", type=Path, required=True, help="an earlier judge's OUT")
    parser.add_argument(
        "--frozen", type=Path, default=None, help="thresholds (default: the judge's own)"
    )
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    record = read_judge(args.judge / "judge.json")
    frozen = frozen_for_shipped(args.frozen) if args.frozen else record["frozen"]
    kept = {s: cached_world(args.judge / "worlds", s) for s in record["seeds"]}
    print(f"{args.feature} = {args.value:g} on {len(kept)} worlds of {args.judge} (flag tier)")
    print("| set on | reported median / worst | adaptive median / worst "
          "| benign FPR median / worst | population pooled highest |")  # fmt: skip
    print("|---|---|---|---|---|")
    rows: dict[str, Any] = {
        "feature": args.feature,
        "value": args.value,
        "judge": str(args.judge),
        "thresholds": frozen[JUDGED["combiner"]],
    }
    for whose in WHOSE:
        changed = {s: with_feature(w, args.feature, args.value, whose) for s, w in kept.items()}
        rows[whose] = figures(changed, frozen)
        print(line(whose, rows[whose]), flush=True)
    out = args.judge / f"ablate-{args.feature}-{args.value:g}.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
