"""Scoring kept worlds at frozen thresholds: what `judge` reports on fresh worlds, and
`rejudge` on the worlds an earlier judge ran (then not fresh: a comparison, not evidence).

A judge scores every world with the hand-set rules, with the combiner as detect runs it
(an account's ticks count towards its own flag at the flag line while it sits in a linked
group, and anywhere at the lone line, `combiner_flag_lone` of the frozen record; its
linked groups' followers flagged too), the same with every tick counted at the flag line
(`combiner-lone`: detect before cf67580, or --combiner-flag-lone at --combiner-flag)
and with the combiner's own estimates alone, each at the thresholds `fit` froze for it;
with a baseline (an earlier combiner and its own frozen thresholds) that one too, on the
same worlds. The exploring judge of results/lone-2026-12-03/explore-judge.json named the
first two `combiner-linked` (its lone line above 1: no lone account flagged) and
`combiner`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.robustness.leakage import CampaignLeak, leakage_summary, world_leakage
from benchmarks.robustness.measures import pooled_population_fpr, summary, world_result
from benchmarks.robustness.worlds import REPORTED, World
from distillguard.detect.config import DetectConfig
from distillguard.scoring.combiner import Combiner, shipped

DECIDERS = ("rules", "combiner")
# What judge reports, and whose frozen thresholds each uses: the combiner as detect runs it
# (with its linked groups' followers), and its own estimates alone.
JUDGED = {
    "rules": "rules",
    "combiner": "combiner",
    "combiner-lone": "combiner",
    "combiner-alone": "combiner",
}
# The combiner deciders with followers (the ones that need a flag threshold), and whether
# each reads the lone line.
WITH_FOLLOWERS = {"combiner": True, "combiner-lone": False}


def scored(
    world: World,
    decider: str,
    combiner: Combiner,
    flag: float | None = None,
    ticks: int = 1,
    *,
    lone: float | None = None,
    p: np.ndarray | None = None,
) -> pa.Table:
    """The world's accounts with `score`: the rules', the combiner's alone, or the
    combiner's as detect decides (flagged accounts' score raised to the flag threshold
    `flag`, which these deciders need). The combiner's score is the `ticks`-th highest of
    an account's tick probabilities, as detect's with combiner_flag_ticks = `ticks`.
    `combiner`: ticks count towards an account's own flag at `flag` in a linked group and
    at the lone line `lone` anywhere (None: at `flag` too), so an account over `flag`
    and not flagged is held just under it and counts for the review tier only;
    `combiner-lone`: every tick counts at `flag`. Both flag followers. (Detect reports a
    held account's own score, at or over `flag`; held here just under it, its tier is the
    same, but the ranked figures see ties where evaluate on detect's output sees none.)
    `p`: the world's tick probabilities under `combiner`, where the caller has them."""
    if decider == "rules":
        score = world.accounts["rule_score"].to_numpy()
    else:
        if p is None:  # once: the scores and the followers read it
            p = world.tick_probability(combiner)
        score = world.combiner_scores(p, ticks)
        if decider in WITH_FOLLOWERS:
            if flag is None:
                raise ValueError("the combiner with followers is scored at a flag threshold")
            line = lone if WITH_FOLLOWERS[decider] and lone is not None else flag
            flagged = world.combiner_flagged(p, flag, DetectConfig().follow_rule, ticks, line)
            score = np.minimum(score, np.nextafter(flag, 0.0))
            score = np.where(flagged, np.maximum(score, flag), score)
    return world.accounts.append_column("score", pa.array(np.asarray(score, dtype=float)))


def lone_line(frozen: dict[str, Any]) -> float | None:
    """The lone line a frozen.json holds (None before it did: every tick at the flag line)."""
    line = frozen.get("combiner_flag_lone")
    return None if line is None else float(line)


def flag_ticks(frozen: dict[str, Any]) -> int:
    """The combiner_flag_ticks a frozen.json was fit at (1 before it was recorded)."""
    return int(frozen.get("flag_ticks", 1))


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise SystemExit(f"{path} is not JSON ({e})") from None


def read_frozen(path: Path) -> dict[str, Any]:
    """A frozen.json as `fit` writes it, or a one-line error."""
    frozen = _json(path)
    wanted = ("model", "fit_seeds", "commit", "frozen_at", *DECIDERS)
    missing = [k for k in wanted if k not in frozen] if isinstance(frozen, dict) else wanted
    if missing:
        raise SystemExit(f"{path} is not a frozen.json that 'fit' writes (missing {missing})")
    return dict(frozen)


def frozen_for_shipped(path: Path) -> dict[str, Any]:
    """The thresholds at `path`, refused unless `fit` froze them for the shipped combiner:
    judging one model at another's thresholds reports figures of neither."""
    if not path.exists():
        raise SystemExit(f"no {path}: run 'fit' first, then judge on fresh worlds")
    frozen = read_frozen(path)
    if frozen["model"] != shipped().about:
        raise SystemExit(
            f"{path} was fit for another combiner than the one shipped: run 'fit' again, "
            "or give --frozen the thresholds fit froze for it"
        )
    if flag_ticks(frozen) != DetectConfig().combiner_flag_ticks:
        raise SystemExit(
            f"{path} was fit at {flag_ticks(frozen)} flag tick(s), detect flags at "
            f"{DetectConfig().combiner_flag_ticks}: run 'fit' again"
        )
    return frozen


@dataclass(frozen=True)
class Baseline:
    """An earlier combiner judged beside the shipped one: where it came from, the model,
    the thresholds frozen for it, the flag ticks they were fit at and its lone line (None:
    every tick counts at the flag line, as before lone lines were fit)."""

    folder: Path
    model: Combiner
    thresholds: dict[str, float]
    ticks: int
    lone: float | None


def read_baseline(folder: Path) -> Baseline:
    """An earlier combiner (FOLDER/combiner.json, or the shipped one when the folder holds
    none and FOLDER/frozen.json was fit for it: other thresholds of the same model) and the
    thresholds frozen for it, judged on the same worlds beside the shipped one; read before
    any world runs, so a wrong folder is a one-line error, not a lost hour."""
    if not (folder / "frozen.json").exists():
        raise SystemExit(f"--baseline {folder} holds no frozen.json")
    frozen = read_frozen(folder / "frozen.json")
    if (folder / "combiner.json").exists():
        model = Combiner.from_json((folder / "combiner.json").read_bytes())
    elif frozen["model"] == shipped().about:
        model = shipped()
    else:
        raise SystemExit(
            f"--baseline {folder} holds no combiner.json, and its frozen.json was fit for "
            "another combiner than the one shipped"
        )
    return Baseline(folder, model, frozen["combiner"], flag_ticks(frozen), lone_line(frozen))


def read_judge(path: Path) -> dict[str, Any]:
    """An earlier judge's record (its seeds, when they were drawn, its worlds' spec), or a
    one-line error."""
    if not path.exists():
        raise SystemExit(f"no {path}: rejudge re-scores the worlds of an earlier judge")
    record = _json(path)
    seeds = record.get("seeds") if isinstance(record, dict) else None
    good = isinstance(seeds, list) and seeds and all(isinstance(s, int) for s in seeds)
    if not good or "drawn_at" not in record:
        raise SystemExit(f"{path} is not a judge.json that 'judge' writes (seeds, drawn_at)")
    return dict(record)


def judged(table: pa.Table, seeds: list[int], thresholds: dict[str, float]) -> dict[str, object]:
    """Per tier: median and worst figures over the worlds, pooled per population, per world."""
    out: dict[str, object] = {}
    for tier, threshold in thresholds.items():
        results = [world_result(table.filter(pc.equal(table["seed"], s)), threshold) for s in seeds]
        out[tier] = {
            "threshold": threshold,
            **summary(results),
            "pooled_population_fpr": pooled_population_fpr(table, threshold),
            "per_world": [asdict(r) for r in results],
        }
    return out


def score_worlds(
    record: dict[str, Any],
    kept: dict[int, World],
    frozen: dict[str, Any],
    baseline: Baseline | None,
) -> None:
    """Every decider's figures on the worlds `kept` (by seed, in `record["seeds"]` order)
    added to `record`, and the baseline's (read_baseline) where one is given."""
    seeds, k, lone = record["seeds"], flag_ticks(frozen), lone_line(frozen)
    for d, frozen_as in JUDGED.items():
        flag = frozen[frozen_as]["flag"]
        table = pa.concat_tables([scored(kept[s], d, shipped(), flag, k, lone=lone) for s in seeds])
        record[d] = judged(table, seeds, frozen[frozen_as])
    # Worlds cached before their traffic was kept have none: leakage is then left out of
    # the record, never counted as zero.
    if all(kept[s].traffic is not None for s in seeds):
        for d, reads_lone in WITH_FOLLOWERS.items():
            line = lone if reads_lone else None
            leakage = combiner_leakage(kept, seeds, frozen["combiner"], k, line)
            for tier, leaks in leakage.items():
                record[d][tier]["leakage"] = leakage_summary(leaks, REPORTED)
    if baseline:
        b = baseline
        flag = b.thresholds["flag"]
        table = pa.concat_tables(
            [scored(kept[s], "combiner", b.model, flag, b.ticks, lone=b.lone) for s in seeds]
        )
        record["baseline"] = judged(table, seeds, b.thresholds)
        about = {"from": str(b.folder), "flag_ticks": b.ticks, "lone": b.lone}
        record["baseline_model"] = {**about, **b.model.about}


def acted_at(
    world: World,
    p: np.ndarray,
    thresholds: dict[str, float],
    ticks: int,
    lone: float | None = None,
) -> dict[str, dict[str, np.datetime64]]:
    """Per tier, the tick at which detect (the combiner, with its linked groups'
    followers) first acts on each account: flagged; for review, flagged or listed.
    `lone`: detect's combiner_flag_lone (None: every tick counts at the flag line)."""
    rule = DetectConfig().follow_rule
    flagged = world.flag_times(p, thresholds["flag"], rule, ticks, lone)
    listed = world.flag_times(p, thresholds["review"], None, ticks)
    either = {a: min(t, flagged.get(a, t)) for a, t in listed.items()}
    return {"flag": flagged, "review": {**flagged, **either}}


def combiner_leakage(
    kept: dict[int, World],
    seeds: list[int],
    thresholds: dict[str, float],
    ticks: int,
    lone: float | None = None,
) -> dict[str, dict[int, dict[str, CampaignLeak]]]:
    """Per tier and world, each campaign's leakage under the shipped combiner."""
    out: dict[str, dict[int, dict[str, CampaignLeak]]] = {"flag": {}, "review": {}}
    for s in seeds:
        world = kept[s]
        if world.traffic is None:
            raise ValueError(f"world {s} keeps no traffic to count leakage over")
        p = world.tick_probability(shipped())
        acted = acted_at(world, p, thresholds, ticks, lone)
        for tier, times in acted.items():
            out[tier][s] = world_leakage(world.traffic, world.accounts, times)
    return out
