"""`distillguard simulate`."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from distillguard.cli.common import Subparsers, add_command, out_path, progress_bars, stdout_console
from distillguard.simulate import SimSummary, simulate
from distillguard.simulate.config import preset_names
from distillguard.simulate.writer import FORMATS


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "simulate",
        summary="write simulated API traffic, with labels, to try detection on",
        description="Write a few days of simulated API traffic: benign populations (casual "
        "users, coding agents, batch pipelines, eval runners...) and distillation campaigns, as "
        "exchange-log v1, with an accounts table and a labels table saying which account "
        "belongs to which campaign. Only 'distillguard evaluate' reads the labels.",
        examples=[
            (
                "the reported campaigns at 1% of their volume, for a week",
                "distillguard simulate --preset reported-2026 --scale 0.01 --days 7 --out traffic",
            ),
            (
                "adaptive attackers, with prompt text from your own corpora",
                "distillguard simulate --preset adaptive --corpus corpora/ --out traffic",
            ),
        ],
    )
    p.add_argument(
        "--preset",
        required=True,
        metavar="NAME",
        help=f"the populations and campaigns: one of {', '.join(preset_names())}, or a YAML file",
    )
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        metavar="X",
        help="multiplies the preset's volumes (above 0, at most 100)",
    )
    p.add_argument(
        "--days",
        type=int,
        default=None,
        metavar="N",
        help="days of traffic, 1 to 366 (default: the preset's)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="random seed: the same seed, the same traffic",
    )
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
    p.add_argument("--format", choices=FORMATS, default="parquet", help="the file format written")
    p.add_argument(
        "--out",
        required=True,
        type=out_path,
        metavar="DIR",
        help="the folder to write exchanges, accounts and labels to",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    summary = simulate_with_bar(
        args.preset,
        args.out,
        scale=args.scale,
        days=args.days,
        seed=args.seed,
        corpus=args.corpus,
        fmt=args.format,
        randomize=args.randomize,
    )
    print_summary(summary, stdout_console())
    return 0


def simulate_with_bar(preset: str, out: Path, **options: Any) -> SimSummary:
    """`simulate`, with a bar of the days written."""
    with progress_bars() as bars:
        task = bars.add_task("simulating days", total=None)

        def progress(days: Iterator[int], total: int) -> Iterator[int]:
            bars.update(task, total=total)
            for day in days:
                yield day
                bars.advance(task)

        return simulate(preset, out, progress=progress, **options)


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
