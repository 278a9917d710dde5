"""The lone line: how high an account linked to no other must score before detect flags it.

A campaign needs many accounts, and whatever it shares (a card, a sign-up address, dense
blocks of rare keys, one distribution of prompts) links them; a heavy customer has one
account. On fresh worlds the benign accounts the combiner flagged were mostly such lone
heavy users (power users, script runners), and a benign population of a few dozen accounts
goes over 1% with one of them. So detect counts an account's ticks towards its own flag
at the flag line while it sits in a linked group, and at a higher line anywhere
(`combiner_flag_lone`); one over the flag line and under this is listed for review.

`fit` freezes it on its fit worlds after the flag line: the lowest line, on a grid of
LONE_STEP from the flag line up, at which detect's flag tier (followers included) keeps
every benign population within LONE_POPULATION_FPR pooled over the worlds: half the flag
fit's own population target. "Never" (a line above 1) if no line on the grid does.

    python -m benchmarks.robustness.lone FIT-FOLDER... --frozen FROZEN --out FROZEN2
adds one to a frozen.json fit before lone lines were, on the worlds `fit` cached.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

from benchmarks.robustness.judging import flag_ticks, read_frozen, scored
from benchmarks.robustness.measures import pooled_population_fpr
from benchmarks.robustness.settings import commit
from benchmarks.robustness.worlds import World, cached_world
from distillguard.scoring.combiner import Combiner, shipped

LONE_POPULATION_FPR = 0.0025
LONE_STEP = 0.0005
NEVER = 2.0  # above any probability: no lone account is flagged on its own


def candidate_lines(flag: float) -> list[float]:
    """The grid: the flag line itself, then LONE_STEP apart up to 1, then never."""
    first = math.ceil(flag / LONE_STEP) * LONE_STEP
    steps = round((1.0 - first) / LONE_STEP)
    return [flag, *(round(first + i * LONE_STEP, 4) for i in range(steps + 1)), NEVER]


def lowest_lone_line(worlds: Iterable[World], combiner: Combiner, flag: float, ticks: int) -> float:
    """The lowest candidate line at which every benign population of `worlds` stays within
    LONE_POPULATION_FPR at the flag tier, as detect decides it with that lone line."""
    kept = [(w, w.tick_probability(combiner)) for w in worlds]  # the forest once a world
    for line in candidate_lines(flag):
        table = pa.concat_tables(
            [scored(w, "combiner", combiner, flag, ticks, lone=line, p=p) for w, p in kept]
        )
        if max(pooled_population_fpr(table, flag).values(), default=0.0) <= LONE_POPULATION_FPR:
            return line
    return NEVER


def main(argv: list[str] | None = None) -> None:
    """Add a lone line to a frozen.json, fit at its own flag line on the fit worlds cached in
    each FOLDER (as `fit --out FOLDER` left them): the highest of the folders' lines, as
    merge takes the highest threshold of several fits."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folders", nargs="+", type=Path, help="fit --out folders, worlds cached")
    parser.add_argument("--frozen", type=Path, required=True, help="the frozen.json to extend")
    parser.add_argument("--out", type=Path, required=True, help="the frozen.json written")
    args = parser.parse_args(argv)
    frozen = read_frozen(args.frozen)
    flag, k = float(frozen["combiner"]["flag"]), flag_ticks(frozen)
    lines = {}
    for folder in args.folders:
        worlds = [cached_world(folder / "worlds", s) for s in frozen["fit_seeds"]]
        lines[str(folder)] = lowest_lone_line(worlds, shipped(), flag, k)
        print(f"{folder}: lone line {lines[str(folder)]}", flush=True)
    frozen["combiner_flag_lone"] = max(lines.values())
    frozen["lone_population_fpr"] = LONE_POPULATION_FPR
    frozen["lone_lines_fit"] = {"on": lines, "commit": commit()}
    args.out.write_text(json.dumps(frozen, indent=2) + "\n")


if __name__ == "__main__":
    main()
