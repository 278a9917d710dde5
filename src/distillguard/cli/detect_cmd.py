"""`distillguard detect` and `distillguard evaluate`."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from distillguard.cli.common import Subparsers
from distillguard.detect.config import DECIDERS, DetectConfig
from distillguard.detect.run import DetectSummary, detect
from distillguard.evaluate.metrics import evaluate, markdown, write_metrics


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("detect", help="flag distillation accounts and clusters")
    p.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="a lake, or exchange-log files"
    )
    p.add_argument("--accounts", action="append", type=Path, default=[], metavar="PATH")
    p.add_argument("--out", required=True, type=Path, metavar="DIR")
    p.add_argument("--window-hours", type=int, default=DetectConfig.window_hours)
    p.add_argument("--cluster-every-hours", type=int, default=DetectConfig.cluster_every_hours)
    p.add_argument(
        "--run-windows",
        type=int,
        default=DetectConfig.run_windows,
        help="replay in runs this many windows long: longer is faster and holds more memory",
    )
    p.add_argument(
        "--review-threshold",
        type=float,
        default=DetectConfig.review_threshold,
        help="list unflagged accounts whose own score reaches this for review",
    )
    p.add_argument(
        "--decide-by",
        choices=DECIDERS,
        default=DetectConfig.decide_by,
        help="who flags: the learned combiner (default) or the hand-set rules alone",
    )
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=run_detect)
    e = subparsers.add_parser("evaluate", help="score detection output against labels")
    e.add_argument("dir", type=Path, metavar="DIR", help="a detect output directory")
    e.add_argument("--labels", required=True, type=Path, metavar="PATH")
    e.set_defaults(run=run_evaluate)


def run_detect(args: argparse.Namespace) -> int:
    config = DetectConfig(
        window_hours=args.window_hours,
        cluster_every_hours=args.cluster_every_hours,
        run_windows=args.run_windows,
        review_threshold=args.review_threshold,
        decide_by=args.decide_by,
        seed=args.seed,
    )
    console = Console(stderr=True)
    columns = (TextColumn("signals"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task("signals", total=None)
        summary = detect(
            args.paths,
            args.out,
            args.accounts,
            config,
            progress=lambda rows: bar.advance(task, rows),
        )
    print_detect(summary, Console())
    return 0


def print_detect(summary: DetectSummary, console: Console) -> None:
    console.print(summary.line())
    table = Table(title="flagged clusters")
    for column in ("cluster", "accounts", "score", "first flagged", "reasons"):
        table.add_column(column)
    for c in sorted((c for c in summary.clusters if c.flagged), key=lambda c: -c.score)[:10]:
        table.add_row(
            c.cluster_id, str(len(c.accounts)), f"{c.score:.2f}", str(c.first_flagged_at), c.reasons
        )
    console.print(table)
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in summary.seconds.items())
    console.print(f"[dim]{timing}[/dim]")
    console.print(f"report: {summary.out / 'report.html'}")


def run_evaluate(args: argparse.Namespace) -> int:
    metrics = evaluate(args.dir, args.labels)
    write_metrics(metrics, args.dir)
    print(markdown(metrics))
    print(f"written: {args.dir / 'metrics.json'}, {args.dir / 'metrics.md'}")
    return 0
