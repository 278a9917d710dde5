"""`distillguard demo`: the main job end to end on the embedded default, for a newcomer."""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from distillguard.cli.common import Subparsers, add_command, out_path, progress, stdout_console
from distillguard.cli.console_cmd import demo_console_hint
from distillguard.cli.detect_cmd import detect_with_bars, print_detect
from distillguard.cli.ingest_cmd import print_lake
from distillguard.cli.simulate_cmd import print_summary, simulate_with_bar
from distillguard.errors import UserError
from distillguard.evaluate.metrics import evaluate
from distillguard.evaluate.report import markdown, write_metrics
from distillguard.ingest import Lake, ingest

DEMO_PRESET = "reported-2026"
DEMO_SCALE = 0.005
DEMO_DAYS = 7


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "demo",
        summary="a simulated week end to end: simulate, ingest, detect, evaluate",
        description=f"The whole job on a small simulated week ({DEMO_PRESET} preset at scale "
        f"{DEMO_SCALE}, {DEMO_DAYS} days; a few minutes on two cores): simulate traffic with "
        "the reported campaigns, ingest it into a lake, detect hour by hour, score the flags "
        "against the labels, write an HTML report of the evidence, and create a console user "
        "'analyst' with a fresh password in OUT/state/ (printed with the command that opens "
        "the analyst console). Start here.",
        examples=[
            ("run it, then open demo-out/detect/report.html", "distillguard demo"),
            ("another week of traffic, elsewhere", "distillguard demo --out /tmp/demo --seed 1"),
        ],
    )
    p.add_argument(
        "--out",
        type=out_path,
        default=Path("demo-out"),
        metavar="DIR",
        help="the folder for traffic/, lake/ and detect/ (its lake is replaced)",
    )
    p.add_argument(
        "--seed", type=int, default=0, metavar="N", help="random seed for the simulated traffic"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.out.is_dir():  # found only after simulating, before
        raise UserError(f"--out {args.out} is a file: the demo writes a folder there")
    console = stdout_console()
    sim_dir, lake_dir = args.out / "traffic", args.out / "lake"
    shutil.rmtree(lake_dir, ignore_errors=True)
    console.rule(f"1. simulate: preset {DEMO_PRESET}, scale {DEMO_SCALE}, {DEMO_DAYS} days")
    started = time.perf_counter()
    summary = simulate_with_bar(
        DEMO_PRESET, sim_dir, scale=DEMO_SCALE, days=DEMO_DAYS, seed=args.seed
    )
    print_summary(summary, console)
    console.print(f"[dim]{time.perf_counter() - started:.1f} s[/dim]")
    console.rule("2. ingest into the Parquet lake")
    started = time.perf_counter()
    exchanges, accounts, _ = summary.files
    with progress("ingest (rows read)") as advance:
        ingested = ingest([exchanges], lake_dir, [accounts], progress=advance)
    console.print(ingested.line())
    console.print(f"[dim]{time.perf_counter() - started:.1f} s[/dim]")
    console.rule("3. what the lake holds")
    print_lake(Lake(lake_dir), console)
    console.rule("4. detect, replayed hour by hour")
    result = detect_with_bars([lake_dir], args.out / "detect", [])
    print_detect(result, console)
    console.rule("5. evaluate against the simulator's labels")
    with progress("evaluating"):
        metrics = evaluate(args.out / "detect", summary.files[2])
        write_metrics(metrics, args.out / "detect")
    print(markdown(metrics))
    console.print(f"open {args.out / 'detect' / 'report.html'} for the evidence behind every flag")
    console.rule("6. triage in the analyst console")
    # soft_wrap: the command is pasted whole, so never folded at the terminal's width
    console.print(demo_console_hint(args.out), highlight=False, soft_wrap=True)
    return 0
