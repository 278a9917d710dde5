"""Thresholds that hold on every prompt source: several `fit` results, each frozen on its
own fit worlds (the grammar's prompts, or real third-party text with --corpus), merged
(or of other lengths, --days) into one frozen.json whose threshold per decider and tier is
the highest of them, and so is its lone line.

A benign account's score depends on what its prompts look like, so thresholds frozen on
the grammar's prompts sit lower than worlds of real text need to keep their benign
accounts within the targets. A threshold that meets the targets on each source's fit
worlds is the highest of the thresholds fit on each (a higher threshold flags no more).

    python -m benchmarks.robustness.merge GRAMMAR/frozen.json CORPUS/frozen.json \\
        --out benchmarks/robustness/results/frozen.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks.robustness.judging import DECIDERS, flag_ticks, read_frozen

# what each fit keeps under merged_from, its thresholds beside: its worlds and its code
LONE = "combiner_flag_lone"
KEPT = ("corpus", "days", "scale", "max_scale", "commit", "frozen_at", LONE)


def merged(fits: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One frozen record from `fits` (name: a fit's record), all fit for the same model
    with the same targets: per decider and tier the highest threshold, and each fit kept
    under `merged_from`. A configuration error raises ValueError."""
    if len(fits) < 2:
        raise ValueError("merge needs at least two frozen.json files")
    first = next(iter(fits.values()))
    for name, fit in fits.items():
        for key in ("model", "targets"):
            if fit.get(key) != first.get(key):
                raise ValueError(f"{name} was fit with another {key} than the first file")
        if flag_ticks(fit) != flag_ticks(first):
            raise ValueError(f"{name} was fit at other flag ticks than the first file")
    # each fit's prompt source and length stay under merged_from only: the merge has many
    out = {k: v for k, v in first.items() if k not in (*DECIDERS, "corpus", "days")}
    out["fit_seeds"] = sorted({s for fit in fits.values() for s in fit["fit_seeds"]})
    out["frozen_at"] = max(fit["frozen_at"] for fit in fits.values())
    for d in DECIDERS:
        out[d] = {tier: max(fit[d][tier] for fit in fits.values()) for tier in first[d]}
    lone = [float(fit[LONE]) for fit in fits.values() if LONE in fit]
    if lone and len(lone) < len(fits):  # every fit since lone lines were fit has one
        raise ValueError("some of the files hold a lone line and some none: fit them again")
    if lone:
        out[LONE] = max(lone)
    out["merged_from"] = {
        name: {k: fit[k] for k in (*KEPT, *DECIDERS) if k in fit} for name, fit in fits.items()
    }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("frozen", nargs="+", type=Path, help="frozen.json files 'fit' wrote")
    parser.add_argument("--out", type=Path, required=True, help="the merged frozen.json")
    args = parser.parse_args(argv)
    try:
        record = merged({str(p): read_frozen(p) for p in args.frozen})
    except ValueError as e:
        raise SystemExit(str(e)) from None
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: record[k] for k in (*DECIDERS, LONE) if k in record}, indent=2))


if __name__ == "__main__":
    main()
