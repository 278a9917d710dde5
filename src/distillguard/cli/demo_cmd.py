"""`distillguard demo`: the main job end to end on the embedded default, for a newcomer."""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from rich.console import Console

from distillguard.cli.common import Subparsers
from distillguard.cli.console_cmd import demo_console_hint
from distillguard.cli.detect_cmd import print_detect
from distillguard.cli.ingest_cmd import print_lake
from distillguard.cli.simulate_cmd import print_summary
from distillguard.detect.run import detect
from distillguard.evaluate.metrics import evaluate, markdown, write_metrics
from distillguard.ingest import Lake, ingest
from distillguard.simulate import simulate

DEMO_PRESET = "reported-2026"
DEMO_SCALE = 0.005
DEMO_DAYS = 7


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("demo", help="simulate, ingest, detect and evaluate, end to end")
    p.add_argument("--out", type=Path, default=Path("demo-out"), metavar="DIR")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    console = Console()
    sim_dir, lake_dir = args.out / "traffic", args.out / "lake"
    shutil.rmtree(lake_dir, ignore_errors=True)
    console.rule(f"1. simulate: preset {DEMO_PRESET}, scale {DEMO_SCALE}, {DEMO_DAYS} days")
    started = time.perf_counter()
    summary = simulate(DEMO_PRESET, sim_dir, scale=DEMO_SCALE, days=DEMO_DAYS, seed=args.seed)
    print_summary(summary, console)
    console.print(f"[dim]{time.perf_counter() - started:.1f} s[/dim]")
    console.rule("2. ingest into the Parquet lake")
    started = time.perf_counter()
    exchanges, accounts, _ = summary.files
    console.print(ingest([exchanges], lake_dir, [accounts]).line())
    console.print(f"[dim]{time.perf_counter() - started:.1f} s[/dim]")
    console.rule("3. what the lake holds")
    print_lake(Lake(lake_dir), console)
    console.rule("4. detect, replayed hour by hour")
    result = detect([lake_dir], args.out / "detect")
    print_detect(result, console)
    console.rule("5. evaluate against the simulator's labels")
    metrics = evaluate(args.out / "detect", summary.files[2])
    write_metrics(metrics, args.out / "detect")
    print(markdown(metrics))
    console.print(f"open {args.out / 'detect' / 'report.html'} for the evidence behind every flag")
    console.rule("6. triage in the analyst console")
    console.print(demo_console_hint(args.out), highlight=False)
    return 0
