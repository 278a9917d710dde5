"""`distillguard evaluate`: detect's results against a simulation's labels."""

from __future__ import annotations

import argparse
from pathlib import Path

from distillguard.cli.common import Subparsers, add_command, add_json_flag, progress
from distillguard.evaluate.metrics import evaluate
from distillguard.evaluate.report import markdown, write_metrics


def register(subparsers: Subparsers) -> None:
    e = add_command(
        subparsers,
        "evaluate",
        summary="score detection results against labels (simulated traffic)",
        description="Compare a detect output folder with a labels table (from 'distillguard "
        "simulate'): recall and precision of the flags, false-positive rates per benign "
        "population, each campaign's recall, leakage (its exchanges served before its first "
        "flag) and time to detect, and the review tier's rates. Prints the metrics and writes "
        "DIR/metrics.json and DIR/metrics.md.",
        examples=[
            (
                "after simulate and detect",
                "distillguard evaluate detections --labels traffic/labels.parquet",
            ),
            (
                "one figure, for a script",
                "distillguard evaluate detections --labels traffic --json | jq .recall",
            ),
        ],
    )
    e.add_argument(
        "dir", type=Path, metavar="DIR", help="a folder written by 'distillguard detect'"
    )
    e.add_argument(
        "--labels",
        required=True,
        type=Path,
        metavar="PATH",
        help="the labels table (Parquet or JSONL), or the simulate folder holding it "
        "(labels.parquet, labels.jsonl.gz or labels.jsonl, as simulate --format wrote it)",
    )
    add_json_flag(e, "the metrics")
    e.set_defaults(run=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    with progress("evaluating"):
        metrics = evaluate(args.dir, args.labels)
        write_metrics(metrics, args.dir)
    if args.json:
        print(metrics.to_json())
        return 0
    print(markdown(metrics))
    print(f"written: {args.dir / 'metrics.json'}, {args.dir / 'metrics.md'}")
    return 0
