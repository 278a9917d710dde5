"""`distillguard simulate`."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from distillguard.cli.common import Subparsers
from distillguard.simulate import SimSummary, simulate
from distillguard.simulate.config import preset_names
from distillguard.simulate.writer import FORMATS


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("simulate", help="write simulated traffic with labels")
    p.add_argument(
        "--preset",
        required=True,
        metavar="NAME",
        help=f"one of {', '.join(preset_names())}, or a YAML file",
    )
    p.add_argument("--scale", type=float, default=1.0, help="multiplies the preset's volumes")
    p.add_argument("--days", type=int, default=None, help="days of traffic (preset's default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--corpus",
        type=Path,
        default=None,
        metavar="DIR",
        help="draw prompt text from JSONL corpora ({text, kind} rows)",
    )
    p.add_argument(
        "--randomize",
        action="store_true",
        help="draw every population's behaviour knobs from wide ranges for this seed",
    )
    p.add_argument("--format", choices=FORMATS, default="parquet")
    p.add_argument("--out", required=True, type=Path, metavar="DIR")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("simulating days", total=None)

        def progress(days: Iterator[int], total: int) -> Iterator[int]:
            bar.update(task, total=total)
            for day in days:
                yield day
                bar.advance(task)

        summary = simulate(
            args.preset,
            args.out,
            scale=args.scale,
            days=args.days,
            seed=args.seed,
            corpus=args.corpus,
            fmt=args.format,
            randomize=args.randomize,
            progress=progress,
        )
    print_summary(summary, Console())
    return 0


def print_summary(summary: SimSummary, console: Console) -> None:
    table = Table(title=f"simulated traffic in {summary.out}")
    for column in ("population", "label", "campaign", "accounts", "exchanges"):
        table.add_column(column, justify="right" if column in ("accounts", "exchanges") else "left")
    for c in summary.counts:
        table.add_row(
            c.population, c.label, c.campaign or "", f"{c.accounts:,}", f"{c.exchanges:,}"
        )
    table.add_row(
        "total",
        "",
        "",
        f"{sum(c.accounts for c in summary.counts):,}",
        f"{sum(c.exchanges for c in summary.counts):,}",
        style="bold",
    )
    console.print(table)
    console.print("files: " + ", ".join(str(p) for p in summary.files))
