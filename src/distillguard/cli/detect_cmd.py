"""`distillguard detect` and `distillguard evaluate`."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from distillguard.cli.common import Subparsers
from distillguard.detect.config import DetectConfig
from distillguard.detect.run import DetectSummary, detect
from distillguard.errors import UserError
from distillguard.evaluate.metrics import evaluate, markdown, write_metrics
from distillguard.sharing import keys
from distillguard.sharing.boost import PeerBoost


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
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--indicators",
        type=Path,
        default=None,
        metavar="BUNDLE",
        help="a peer's STIX bundle: matching its indicators counts as evidence (needs --key)",
    )
    p.add_argument("--key", type=Path, default=None, metavar="FILE", help="the community key")
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
        seed=args.seed,
    )
    boost = peer_boost(args.indicators, args.key)
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
            boost=boost,
        )
    print_detect(summary, Console())
    return 0


def peer_boost(bundle: Path | None, key: Path | None) -> PeerBoost | None:
    """The evidence of a peer's indicators, when asked for (off by default)."""
    if bundle is None:
        if key is not None:
            raise UserError("--key is only used with --indicators")
        return None
    if key is None:
        raise UserError("--indicators needs --key FILE, the community key it was made with")
    return PeerBoost.from_files(bundle, keys.load(key))


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
