"""Robustness benchmark: settings chosen on randomised worlds, frozen, then judged on fresh
worlds whose seeds are drawn after freezing and recorded with the result.

    python -m benchmarks.robustness.run train [--train-seeds 101 .. 180]
    python -m benchmarks.robustness.run fit   [--fit-seeds 1 .. 4 21 .. 40]
    python -m benchmarks.robustness.run judge [--worlds 20] [--baseline DIR]
    python -m benchmarks.robustness.run rejudge --out DIR-OF-AN-EARLIER-JUDGE [--baseline DIR]
    (all: [--out bench-out/robustness] [--scale 1.0] [--max-scale S] [--days N] [--jobs 2]
     [--corpus DIR [--corpus-share F]])

`train` fits the combiner on the train worlds and writes it into the package. `fit` freezes,
on other worlds, the flag and review thresholds of both deciders (the hand-set rules and
the combiner) at pooled benign false-positive targets, and the combiner's lone line (see
lone.py), into OUT/frozen.json with the commit.
`judge` refuses to run without it, draws fresh seeds from the operating system's randomness
(from 1000 up, never a train or fit seed), writes them to OUT/judge.json before the first
world runs, and reports median and worst figures over the worlds (see measures.py), with
the combiner's leakage per campaign where the worlds keep their traffic (leakage.py).
`rejudge` scores the shipped model (and a baseline) on the worlds an earlier judge cached
in OUT: a comparison on worlds judged before, not fresh evidence. A world
(`randomized` preset) is about 4,000 benign and 250 attack accounts over 7 days at scale 1;
run it under `nice`.
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa

from benchmarks.robustness.judging import (
    DECIDERS,
    Baseline,
    frozen_for_shipped,
    read_baseline,
    read_judge,
    score_worlds,
    scored,
)
from benchmarks.robustness.lone import LONE_POPULATION_FPR, lowest_lone_line
from benchmarks.robustness.measures import lowest_fitting
from benchmarks.robustness.report import markdown
from benchmarks.robustness.settings import (
    commit,
    corpus_of,
    prompts,
    scale_of,
    share_arg,
    sources,
    warn_unlike_fit,
)
from benchmarks.robustness.train import train
from benchmarks.robustness.worlds import World, WorldSpec, cached_world, load_world
from distillguard.detect.config import DetectConfig
from distillguard.scoring.combiner import shipped

# (pooled benign false-positive rate, every benign population's, pooled) on the fit worlds:
# a margin below the targets the fresh worlds are judged against (0.5% and 1% for flags,
# 1% for the review tier). Every population at half the 1% bar for flags: a fresh world
# holds a few dozen power users or coding-agent users, where one account is 2-4%.
TARGETS = {"flag": (0.004, 0.005), "review": (0.008, 0.02)}
ALONE = {"combiner": "combiner-alone"}
FIT_SEEDS = [*range(1, 5), *range(21, 41)]


def _one(job: tuple[WorldSpec, Path]) -> int:
    spec, out = job
    started = time.perf_counter()
    world = load_world(spec, out / "worlds", out / "work")
    print(
        f"world {spec.seed}: {world.accounts.num_rows:,} accounts, "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return spec.seed


def worlds(seeds: list[int], args: argparse.Namespace) -> dict[int, World]:
    jobs = [
        (
            WorldSpec(
                s,
                scale_of(s, args.scale, args.max_scale),
                args.days,
                corpus_of(s, args.corpus, args.corpus_share),
                campaigns_declare=args.campaigns_declare,
            ),
            args.out,
        )
        for s in seeds
    ]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(_one, jobs))
    return {
        s: load_world(spec, args.out / "worlds", args.out / "work")
        for s, (spec, _) in zip(seeds, jobs, strict=True)
    }


def fit(args: argparse.Namespace) -> None:
    combiner = shipped()
    # The thresholds are set on the combiner's own estimates: followers are a rule of their
    # own, judged on the fresh worlds with and without it.
    fitted = worlds(args.fit_seeds, args).values()
    k = DetectConfig().combiner_flag_ticks
    table = {
        d: pa.concat_tables([scored(w, ALONE.get(d, d), combiner, ticks=k) for w in fitted])
        for d in DECIDERS
    }
    frozen: dict[str, object] = {
        "fit_seeds": args.fit_seeds,
        "model": combiner.about,
        "scale": args.scale,
        "max_scale": args.max_scale,
        "days": args.days,
        "flag_ticks": k,
        **sources(args),
        "commit": commit(),
        "frozen_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "targets": TARGETS,
    }
    lines = {
        d: {tier: lowest_fitting(_cols(table[d]), *target) for tier, target in TARGETS.items()}
        for d in DECIDERS
    }
    frozen.update(lines)
    flag = lines["combiner"]["flag"]
    frozen["combiner_flag_lone"] = lowest_lone_line(fitted, combiner, flag, k)
    frozen["lone_population_fpr"] = LONE_POPULATION_FPR
    (args.out / "frozen.json").write_text(json.dumps(frozen, indent=2) + "\n")
    print(json.dumps(frozen, indent=2))


def _cols(table: pa.Table) -> dict[str, Any]:
    return {n: table[n].to_numpy(zero_copy_only=False) for n in table.column_names}


def judge(args: argparse.Namespace) -> None:
    frozen = frozen_for_shipped(args.frozen or args.out / "frozen.json")
    baseline = _baseline(args)
    seeds = _fresh_seeds(frozen, args.worlds)
    record: dict[str, Any] = {
        "frozen": frozen,
        "seeds": seeds,
        "drawn_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "judged_at_commit": commit(),
        "follow_rule": asdict(DetectConfig().follow_rule),
        **sources(args),
        "scale": args.scale,
        "max_scale": args.max_scale,
        "days": args.days,
        **({"campaigns_declare": d} if (d := args.campaigns_declare) is not None else {}),
    }
    warn_unlike_fit(frozen, args)
    (args.out / "judge.json").write_text(json.dumps(record, indent=2) + "\n")
    score_worlds(record, worlds(seeds, args), frozen, baseline)
    _write(record, args.out / "judge")


def _fresh_seeds(frozen: dict[str, Any], n: int) -> list[int]:
    """`n` seeds drawn now, after freezing, from the operating system's randomness: never a
    seed the model was trained or its thresholds fit on."""
    used = set(frozen["fit_seeds"]) | set(frozen["model"].get("train_seeds", []))
    seeds: list[int] = []
    while len(seeds) < n:
        seed = 1000 + secrets.randbelow(2**31)
        if seed not in used and seed not in seeds:
            seeds.append(seed)
    return seeds


def rejudge(args: argparse.Namespace) -> None:
    """The shipped model (and --baseline) scored on the worlds an earlier judge in OUT ran,
    as they were cached then: for comparing two models on worlds judged before, never as
    fresh evidence (the record and its tables say so). A world that is not cached is
    refused rather than simulated again: the simulator may have changed since."""
    frozen = frozen_for_shipped(args.frozen or args.out / "frozen.json")
    baseline = _baseline(args)
    before = read_judge(args.out / "judge.json")
    kept = {s: cached_world(args.out / "worlds", s) for s in before["seeds"]}
    record: dict[str, Any] = {
        **{k: before.get(k) for k in ("seeds", "drawn_at", "corpus", "scale", "max_scale")},
        "frozen": frozen,
        "rejudged_at_commit": commit(),
        "rejudged_from": str(args.out / "judge.json"),
        "judged_at_commit": before.get("judged_at_commit"),
        "follow_rule": asdict(DetectConfig().follow_rule),
    }
    score_worlds(record, kept, frozen, baseline)
    _write(record, args.out / "rejudge")


def _baseline(args: argparse.Namespace) -> Baseline | None:
    if not args.baseline:
        return None
    return read_baseline(args.baseline)


def _write(record: dict[str, Any], stem: Path) -> None:
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    text = markdown(record)
    stem.with_suffix(".md").write_text(text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=("train", "fit", "judge", "rejudge"))
    # Many worlds each: what carries to worlds never seen is the variety of worlds trained
    # on, and a threshold frozen over few worlds follows their handful of power users.
    parser.add_argument("--train-seeds", type=int, nargs="+", default=list(range(101, 181)))
    parser.add_argument("--fit-seeds", type=int, nargs="+", default=list(FIT_SEEDS))
    parser.add_argument("--worlds", type=int, default=20, help="fresh worlds (judge)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument(
        "--max-scale",
        type=float,
        default=None,
        help="each world's scale drawn from its seed, log-uniformly from --scale to this",
    )
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=2, help="worlds run at once")
    parser.add_argument(
        "--frozen",
        type=Path,
        default=None,
        help="judge, rejudge: the thresholds to judge at (default OUT/frozen.json, as fit "
        "writes it)",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="prompt text from these corpora (simulate --corpus) instead of the grammar; "
        "worlds are cached per --out, so give it an --out of its own",
    )
    parser.add_argument(
        "--corpus-share",
        type=float,
        default=1.0,
        help="with --corpus: the share of worlds (drawn from each seed) whose prompts come "
        "from the corpora, the others from the grammar (default 1: all)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench-out/robustness"))
    parser.add_argument(
        "--without",
        nargs="+",
        default=[],
        metavar="FEATURE",
        help="train: leave these features out of the model (see benchmarks/robustness/ablate.py)",
    )
    parser.add_argument(
        "--campaigns-declare",
        type=share_arg,
        default=None,
        metavar="SHARE",
        help="a stress test: every campaign's card groups declare an organisation with this "
        "chance, 0 to 1 (default: as the randomised preset draws them)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="judge, rejudge: a folder with an earlier combiner.json and its frozen.json, "
        "judged on the same worlds for comparison (with followers, as detect runs it now)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.step == "train":
        sizes = (
            f"scale drawn per seed, log-uniform from {args.scale} to {args.max_scale}"
            if args.max_scale
            else f"scale {args.scale}"
        )
        trained_on = worlds(args.train_seeds, args)
        said = prompts(args, list(trained_on))
        combiner = train(trained_on, sizes, said, tuple(args.without))
        print(json.dumps(combiner.about, indent=2))
    else:
        {"fit": fit, "judge": judge, "rejudge": rejudge}[args.step](args)


if __name__ == "__main__":
    main()
