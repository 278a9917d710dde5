"""`distillguard ingest` and `distillguard lake`."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from distillguard.cli.common import Subparsers
from distillguard.cli.time_window import add_time_window, time_window
from distillguard.ingest import Lake, ingest
from distillguard.ingest.adapters import AUTO, adapter_names, load_mapping
from distillguard.ingest.summary import summarize_lake


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("ingest", help="read logs into a Parquet lake")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or directories")
    p.add_argument("--accounts", action="append", type=Path, default=[], metavar="PATH")
    p.add_argument("--out", required=True, type=Path, metavar="LAKE")
    p.add_argument(
        "--format", default=AUTO, metavar="NAME", help=f"one of: {', '.join(adapter_names())}"
    )
    p.add_argument("--mapping", type=Path, metavar="FILE", help="YAML field mapping for adapters")
    add_time_window(p)
    p.set_defaults(run=run_ingest)


def run_ingest(args: argparse.Namespace) -> int:
    mapping = load_mapping(args.mapping) if args.mapping else None
    summary = ingest(
        args.paths,
        args.out,
        args.accounts,
        fmt=args.format,
        mapping=mapping,
        window=time_window(args),
    )
    print(summary.line())
    return 0


def register_lake(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("lake", help="summarise what a lake holds")
    p.add_argument("lake", type=Path, metavar="LAKE")
    p.set_defaults(run=run_lake)


def run_lake(args: argparse.Namespace) -> int:
    print_lake(Lake(args.lake), Console())
    return 0


def print_lake(lake: Lake, console: Console) -> None:
    s = summarize_lake(lake)
    table = Table(title=f"lake {lake.root}", show_header=False)
    table.add_row("exchanges", f"{s.exchanges:,}")
    table.add_row("accounts with traffic", f"{s.accounts_active:,}")
    table.add_row("accounts table", f"{s.accounts_table:,}")
    table.add_row("days", f"{s.days} ({s.first_ts} .. {s.last_ts})")
    table.add_row("quarantined rows", f"{s.quarantined:,}")
    table.add_row("top models", ", ".join(f"{k} ({n:,})" for k, n in s.top_models))
    table.add_row("access paths", ", ".join(f"{k} ({n:,})" for k, n in s.top_access_paths))
    console.print(table)
