"""A robustness run's settings: each world's size and prompt source, drawn from its seed;
what a fit's, train's or judge's record keeps of them and of the code; and whether a
judge's worlds are the size its thresholds were fit at."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

PRESET_DAYS = 7  # the randomized preset's length, where a run gives no --days


def commit() -> str:
    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], check=False, capture_output=True, text=True)
        return done.stdout.strip()

    head = git("rev-parse", "HEAD") or "unknown (not a git checkout)"
    # the benchmark's own code judges as much as the package's
    dirty = git("status", "--porcelain", "src", "benchmarks/robustness")
    return head + ("+dirty" if dirty else "")


def scale_of(seed: int, scale: float, max_scale: float | None) -> float:
    """A world's scale: `scale`, or with `max_scale`, drawn from the seed log-uniformly
    between the two. Counts grow with a world (accounts in a content bucket, on a card, at
    a sign-up address, in a linked group), so a model trained at one size meets shifted
    inputs on traffic of another; worlds of many sizes teach it which counts are large."""
    if max_scale is None:
        return scale
    if not 0 < scale <= max_scale:
        raise SystemExit(f"--max-scale {max_scale} must be at least --scale {scale} (> 0)")
    draw = float(np.random.default_rng([seed, 0x5CA1E]).random())
    return round(float(scale * (max_scale / scale) ** draw), 3)


def corpus_of(seed: int, corpus: Path | None, share: float) -> Path | None:
    """A world's prompt source: `corpus` in a `share` of worlds, drawn from the seed, else
    the grammar. Real prompts are what held-out traffic carries, and the grammar's are what
    the simulator can vary freely; a model trained on one alone meets the other's content
    cohorts (repeats, sketches, buckets) as shifted inputs."""
    if not 0 <= share <= 1:
        raise SystemExit(f"--corpus-share {share} must be from 0 to 1")
    if corpus is None:
        return None
    draw = float(np.random.default_rng([seed, 0xC0DE5]).random())
    return corpus if draw < share else None


def warn_unlike_fit(frozen: dict[str, Any], args: argparse.Namespace) -> None:
    """Say so when the fresh worlds are not the size or length the thresholds were fit at:
    a judge of another size is a question of its own, not the shipped operating point's."""
    fits = [frozen, *frozen.get("merged_from", {}).values()]
    sizes = {(f["scale"], f.get("max_scale")) for f in fits if f.get("scale") is not None}
    days = {int(f.get("days") or PRESET_DAYS) for f in fits if "days" in f}
    judged = size_text(args.scale, args.max_scale)
    if sizes and (args.scale, args.max_scale) not in sizes:
        fit = ", ".join(size_text(*size) for size in sorted(sizes, key=str))
        print(f"note: judging at {judged}; the thresholds were fit at {fit}")
    length = int(args.days or PRESET_DAYS)
    if days and length not in days:
        fit_days = ", ".join(str(d) for d in sorted(days))
        print(f"note: judging {length}-day worlds; the thresholds were fit at {fit_days} days")


def size_text(scale: float | None, max_scale: float | None) -> str:
    """A run's world size as records and notes say it: "scale 0.6", or "scale 0.6-2.5"
    for sizes drawn per seed."""
    return f"scale {scale}" + (f"-{max_scale}" if max_scale else "")


def sources(args: argparse.Namespace) -> dict[str, object]:
    """Where the worlds' prompts came from, as a record keeps it."""
    if not args.corpus:
        return {"corpus": None}
    share = {"corpus_share": args.corpus_share} if args.corpus_share < 1 else {}
    return {"corpus": str(args.corpus), **share}


def prompts(args: argparse.Namespace, seeds: list[int]) -> str:
    """The train worlds' prompt sources, as the model's record says them."""
    if not args.corpus:
        return ""
    real = [s for s in seeds if corpus_of(s, args.corpus, args.corpus_share)]
    return f"{args.corpus} in {len(real)} of {len(seeds)} worlds, the grammar in the rest"


def share_arg(text: str) -> float:
    """A command line's share: a number from 0 to 1, else argparse's one-line error."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value
