"""Try combiner recipes against the shipped one without shipping anything.

    python -m benchmarks.robustness.variants hardneg top features-half regularised
        [--out bench-out/robustness] [--validation FILE ...]

Each variant is trained on the cached train worlds of the shipped model (the seeds in its
`about`), its thresholds are frozen on the fit worlds as `run fit` does, and it is scored on
validation worlds: by default the fresh worlds of the two judges already reported
(`results/judge.json`, `results/second-2026-11-30/judge.json`). Those were never trained
on, but they have been looked at, so a recipe that wins here must still be judged on
worlds drawn after it is frozen (`run judge`) before it ships. A world not cached under
OUT/worlds is simulated first (the steps of `run` cache them). Nothing is written into the
package.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from sklearn.ensemble import HistGradientBoostingClassifier

from benchmarks.robustness import train as recipe
from benchmarks.robustness.judging import judged, scored
from benchmarks.robustness.measures import lowest_fitting
from benchmarks.robustness.run import FIT_SEEDS, TARGETS
from benchmarks.robustness.worlds import World, WorldSpec, load_world
from distillguard.scoring.combiner import Combiner, shipped

RESULTS = Path(__file__).resolve().parent / "results"
JUDGED = (RESULTS / "judge.json", RESULTS / "second-2026-11-30" / "judge.json")
Rows = tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]
RowRecipe = Callable[[World, int, Combiner], Rows]
Judged = dict[str, Any]  # as judging.judged returns it, JSON-shaped


def _reweighted(factor: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]) -> RowRecipe:
    """A row recipe whose weights are multiplied by factor(attack?, p, top-of-account?), each
    account keeping the total weight it had."""

    def rows(world: World, seed: int, first: Combiner) -> Rows:
        x, y, w, names = recipe.rows(world, seed)
        ids = world.ticks["account_id"].to_numpy(zero_copy_only=False)
        keep = np.random.default_rng(seed).permutation(len(ids))[: recipe.MAX_ROWS_PER_WORLD]
        _, account = np.unique(ids[keep].astype(str), return_inverse=True)
        p = first.score({n: x[:, i] for i, n in enumerate(names)})
        top = p >= np.maximum.reduceat(p[np.argsort(account)], _starts(account))[account]
        weighted = w * factor(y, p, top)
        scale = np.bincount(account, w) / np.maximum(np.bincount(account, weighted), 1e-12)
        return x, y, weighted * scale[account], names

    return rows


def _starts(account: np.ndarray) -> np.ndarray:
    ordered = np.sort(account)
    return np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])


def _plain(world: World, seed: int, first: Combiner) -> Rows:
    return recipe.rows(world, seed)


def _without(*dropped: str) -> RowRecipe:
    """Rows without some inputs: whether the model needs them."""

    def rows(world: World, seed: int, first: Combiner) -> Rows:
        x, y, w, names = recipe.rows(world, seed)
        keep = [i for i, n in enumerate(names) if n not in dropped]
        return x[:, keep], y, w, [names[i] for i in keep]

    return rows


# How widely an account's /24, ASN and system prompt are held: client and network habits of
# the simulated populations, which other traffic may not share (a coding agent's prompt).
FINGERPRINT_RANKS = ("pct_network_sharers", "pct_asn_sharers", "pct_system_sharers")


VARIANTS: dict[str, tuple[RowRecipe, dict[str, object]]] = {
    "shipped-recipe": (_plain, {}),
    # benign ticks the first model found attack-like weigh up to five times more
    "hardneg": (_reweighted(lambda y, p, top: np.where(y, 1.0, 1.0 + 4.0 * p)), {}),
    # each account's most attack-like tick weighs three times its others
    "top": (_reweighted(lambda y, p, top: np.where(top, 3.0, 1.0)), {}),
    "features-half": (_plain, {"max_features": 0.5}),
    "regularised": (_plain, {"min_samples_leaf": 200, "l2_regularization": 5.0}),
    "no-fingerprint-ranks": (_without(*FINGERPRINT_RANKS), {}),
}


def trained(name: str, worlds: dict[int, World], first: Combiner) -> Combiner:
    rows, params = VARIANTS[name]
    seeds = sorted(worlds)
    data = [rows(worlds[s], s, first) for s in seeds]
    model = HistGradientBoostingClassifier(random_state=0, **{**recipe.PARAMS, **params})
    model.fit(*(np.concatenate([d[i] for d in data]) for i in range(3)))
    return recipe.export(model, data[0][3], {"variant": name})


def evaluated(combiner: Combiner, fit: dict[int, World], validation: dict[int, World]) -> Judged:
    # The model's own estimates: recipes differ in the model, and followers need worlds
    # cached with their linked groups.
    table = pa.concat_tables([scored(w, "combiner-alone", combiner) for w in fit.values()])
    cols = {n: table[n].to_numpy(zero_copy_only=False) for n in table.column_names}
    thresholds = {tier: lowest_fitting(cols, *target) for tier, target in TARGETS.items()}
    table_judged = pa.concat_tables(
        [scored(w, "combiner-alone", combiner) for w in validation.values()]
    )
    return judged(table_judged, list(validation), thresholds)


def line(name: str, result: Judged) -> str:
    flag = result["flag"]
    frozen, worlds = flag["frozen"], flag["per_world"]
    recall = {g: frozen["recall"][g] for g in ("reported", "adaptive")}
    over = sum(r["worst_population"][1] > 0.01 for r in worlds)
    caught = {c: v["caught_in"] for c, v in frozen["campaigns"].items()}
    return (
        f"| {name} | {flag['threshold']:.4f} | {recall['reported']['median']:.3f} / "
        f"{recall['reported']['worst']:.3f} | {recall['adaptive']['median']:.3f} / "
        f"{recall['adaptive']['worst']:.3f} | {over} of {len(worlds)} | "
        f"{flag['pooled_population_fpr'].get('power_user', 0.0):.2%} | "
        + ", ".join(f"{c} {n}" for c, n in sorted(caught.items()))
        + " |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("variants", nargs="+", choices=sorted(VARIANTS))
    parser.add_argument("--out", type=Path, default=Path("bench-out/robustness"))
    parser.add_argument("--validation", type=Path, nargs="+", default=list(JUDGED))
    parser.add_argument("--scale", type=float, default=0.6, help="of the cached worlds")
    args = parser.parse_args()
    seeds = sorted({s for path in args.validation for s in json.loads(path.read_text())["seeds"]})
    first = shipped()

    def load(chosen: list[int]) -> dict[int, World]:
        cache, work = args.out / "worlds", args.out / "work"
        return {s: load_world(WorldSpec(s, args.scale, None), cache, work) for s in chosen}

    fit, validation = load(FIT_SEEDS), load(seeds)
    train_worlds = load(list(first.about["train_seeds"]))
    print(
        "| model | flag threshold | reported median / worst | adaptive median / worst | "
        "worlds with a population over 1% | power users pooled | campaigns caught in |"
    )
    print("|---|---:|---|---|---:|---:|---|")
    print(line("shipped", evaluated(first, fit, validation)), flush=True)
    for name in args.variants:
        print(
            line(name, evaluated(trained(name, train_worlds, first), fit, validation)), flush=True
        )


if __name__ == "__main__":
    main()
