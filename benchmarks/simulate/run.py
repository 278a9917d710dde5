"""Simulator benchmark: exchanges per second (wall) and per CPU-second, with peak memory.

    python -m benchmarks.simulate.run [--preset reported-2026] [--scale 0.01] [--days 14]

The simulator runs in one process; exchanges per CPU-second is the per-core figure.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq

from benchmarks.memory import run_measured


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="reported-2026")
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--work", type=Path, default=Path("bench-out/simulate"))
    args = parser.parse_args()
    out = args.work / "traffic"
    shutil.rmtree(out, ignore_errors=True)
    argv = [
        sys.executable,
        "-m",
        "distillguard.cli.main",
        "simulate",
        "--preset",
        args.preset,
        "--scale",
        str(args.scale),
        "--days",
        str(args.days),
        "--out",
        str(out),
    ]
    before = _cpu_seconds()
    measured = run_measured(argv)
    cpu = _cpu_seconds() - before
    rows = pq.read_metadata(out / "exchanges.parquet").num_rows
    result = {
        "preset": args.preset,
        "scale": args.scale,
        "days": args.days,
        "exchanges": rows,
        "seconds": measured.seconds,
        "cpu_seconds": cpu,
        "exchanges_per_s": rows / measured.seconds,
        "exchanges_per_cpu_s": rows / cpu,
        "peak_rss_mb": measured.peak_rss_bytes / 1e6,
    }
    print(
        "| preset | scale | days | exchanges | seconds | exchanges/s | per CPU-second"
        " | peak RSS MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.preset} | {args.scale} | {args.days} | {rows:,} | {measured.seconds:.1f} "
        f"| {result['exchanges_per_s']:,.0f} | {result['exchanges_per_cpu_s']:,.0f} "
        f"| {result['peak_rss_mb']:,.0f} |"
    )
    args.work.mkdir(parents=True, exist_ok=True)
    (args.work / "results.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
