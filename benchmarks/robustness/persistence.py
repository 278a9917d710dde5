"""Does flagging at an account's k-th linking tick above the threshold, rather than its
first, hold better? Measured offline on cached worlds, for several k at once; detect does
it with `combiner_flag_ticks` (`--flag-ticks`), and `run fit`/`judge` measure the one
detect is set to.

    python -m benchmarks.robustness.persistence --fit bench-out/robustness-tmpl [...] \
        --judged bench-out/robustness-tmpl25 [...] [--ticks 1 2 3]

A benign account that crosses the threshold once (a burst, one odd window) is flagged for
good; a campaign's account stays high while it harvests. With k ticks, an account's score
is its k-th highest tick probability, so "flagged" is "score at or above the threshold" as
for k = 1. For each k the threshold is fit as `run fit` fits it (the combiner alone, no
followers) on each --fit folder's cached fit worlds, the highest kept, then every --judged
folder's cached worlds are scored, alone and with linked groups' followers
(scoring/followers.py, which count only accounts flagged on their own at their k-th
tick): worlds judged before, so a comparison, never fresh evidence. The cost it does not
show: each tick after the first is `cluster_every_hours` (6) more hours of harvest served
before the flag.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa

from benchmarks.robustness.measures import WorldResult, lowest_fitting, world_result
from benchmarks.robustness.run import FIT_SEEDS, TARGETS
from benchmarks.robustness.worlds import World, cached_world
from distillguard.detect.config import DetectConfig
from distillguard.scoring.combiner import Combiner, shipped

Scored = dict[tuple[int, bool], list[pa.Table]]  # (ticks, with followers?) -> per world


def scored_tables(
    folder: Path,
    seeds: list[int],
    combiner: Combiner,
    ticks: list[int],
    flags: dict[int, float] | None = None,
) -> Scored:
    """For each k, every world's accounts with its k-th tick score as `score`; with the
    flag thresholds `flags`, also with followers (their score raised to the threshold,
    as the judge scores detect's combiner)."""
    tables: Scored = {}
    for seed in seeds:
        world = cached_world(folder / "worlds", seed)
        p = world.tick_probability(combiner)
        for k in ticks:
            score = world.combiner_scores(p, k)
            tables.setdefault((k, False), []).append(_with_score(world, score))
            if flags is not None:
                follow = world.combiner_flagged(p, flags[k], DetectConfig().follow_rule, k)
                raised = np.where(follow, np.maximum(score, flags[k]), score)
                tables.setdefault((k, True), []).append(_with_score(world, raised))
    return tables


def _with_score(world: World, score: np.ndarray) -> pa.Table:
    return world.accounts.append_column("score", pa.array(np.asarray(score, dtype=float)))


def line(folder: Path, k: int, follow: bool, threshold: float, results: list[WorldResult]) -> str:
    recall = {g: np.array([r.recall[g] for r in results]) for g in ("reported", "adaptive")}
    over = sum(r.worst_population[1] > 0.01 for r in results)
    fpr = np.array([r.fpr for r in results])
    caught: dict[str, int] = {}
    for r in results:
        for campaign, value in r.campaign_recall.items():
            caught[campaign] = caught.get(campaign, 0) + (value > 0.5)
    missed = ", ".join(f"{c} {n}" for c, n in sorted(caught.items()) if n < len(results))
    return (
        f"| {folder.name} | {k} | {'yes' if follow else 'no'} | {threshold:.4f} | "
        + " | ".join(f"{np.median(v):.3f} / {v.min():.3f}" for v in recall.values())
        + f" | {np.median(fpr):.2%} / {fpr.max():.2%} | {over} of {len(results)} | {missed} |"
    )


def fit_thresholds(folders: list[Path], combiner: Combiner, ticks: list[int]) -> dict[int, float]:
    """Per k, the lowest flag threshold meeting the targets on every folder's fit worlds
    (the highest of the folders' own: as benchmarks.robustness.merge keeps them)."""
    thresholds: dict[int, float] = {}
    for folder in folders:
        for (k, _), tables in scored_tables(folder, FIT_SEEDS, combiner, ticks).items():
            table = pa.concat_tables(tables)
            cols = {n: table[n].to_numpy(zero_copy_only=False) for n in table.column_names}
            own = lowest_fitting(cols, *TARGETS["flag"])
            thresholds[k] = max(thresholds.get(k, own), own)
    return thresholds


def _seeds(folder: Path) -> list[int]:
    return sorted(int(d.name.removeprefix("seed-")) for d in (folder / "worlds").glob("seed-*"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--fit",
        type=Path,
        nargs="+",
        required=True,
        help="folders with the fit worlds cached (several: the highest threshold kept)",
    )
    parser.add_argument("--judged", type=Path, nargs="+", required=True)
    parser.add_argument("--ticks", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    if any(k < 1 for k in args.ticks):
        raise SystemExit("--ticks must be whole numbers from 1 up")
    combiner = shipped()
    thresholds = fit_thresholds(args.fit, combiner, args.ticks)
    print(
        "| worlds | ticks | followers | threshold | reported | adaptive | benign FPR | "
        "worlds with a population over 1% | campaigns caught in fewer |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---|")
    for folder in args.judged:
        judged = scored_tables(folder, _seeds(folder), combiner, args.ticks, thresholds)
        for (k, follow), tables in sorted(judged.items()):
            results = [world_result(t, thresholds[k]) for t in tables]
            print(line(folder, k, follow, thresholds[k], results), flush=True)


if __name__ == "__main__":
    main()
