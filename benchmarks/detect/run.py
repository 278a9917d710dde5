"""Detection benchmark: exchanges per second per stage, end to end, and peak memory.

    python -m benchmarks.detect.run [--lake demo-out/lake] [--out bench-out/detect]
                                    [--run-windows N]

Runs `distillguard detect` on an existing lake (`python -m benchmarks.detect.lakes` builds
the benchmark's dense and sparse lakes) in a child process; memory is the peak RSS of it and
its workers together. The detect process's own CPU seconds (user and system: the replay,
the outputs and the driver's share of the signals; the signal workers are forked from a fork
server, which reaps them, so they are not in it) and the load average before and after are
printed too: on a shared machine the wall time says as much about the neighbours.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq

from benchmarks.memory import run_measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lake", type=Path, default=Path("demo-out/lake"))
    parser.add_argument("--out", type=Path, default=Path("bench-out/detect"))
    parser.add_argument("--run-windows", type=int, default=None, help="passed to detect")
    args = parser.parse_args()
    if not (args.lake / "exchanges").is_dir():
        raise SystemExit(f"no lake at {args.lake}: run 'make demo' first, or pass --lake")
    shutil.rmtree(args.out, ignore_errors=True)
    argv = [
        sys.executable,
        "-m",
        "distillguard.cli.main",
        "detect",
        str(args.lake),
        "--out",
        str(args.out),
        *(["--run-windows", str(args.run_windows)] if args.run_windows else []),
    ]
    load_before = os.getloadavg()[0]
    cpu_before = _children_cpu()
    measured = run_measured(argv)
    cpu = _children_cpu() - cpu_before
    load_after = os.getloadavg()[0]
    rows = sum(pq.read_metadata(part).num_rows for part in (args.out / "signals").glob("*.parquet"))
    stages = {k: float(v) for k, v in re.findall(r"(\w+) ([\d.]+) s", measured.stdout)}
    print("| stage | seconds | exchanges/s |")
    print("|---|---:|---:|")
    for stage, seconds in stages.items():
        rate = f"{rows / seconds:,.0f}" if seconds > 0.05 else "-"
        print(f"| {stage} | {seconds:.1f} | {rate} |")
    print(f"| end to end (process) | {measured.seconds:.1f} | {rows / measured.seconds:,.0f} |")
    print(f"\n{rows:,} exchanges; peak RSS {measured.peak_rss_bytes / 1e6:,.0f} MB (all processes)")
    load = f"load average {load_before:.1f} before, {load_after:.1f} after"
    print(f"CPU {cpu:.1f} s (the detect process, signal workers not counted); {load}")
    result = {
        "lake": str(args.lake),
        "cpu_seconds_detect_process": cpu,
        "load_average": [load_before, load_after],
        "exchanges": rows,
        "stages": stages,
        "seconds": measured.seconds,
        "peak_rss_mb": measured.peak_rss_bytes / 1e6,
    }
    (args.out / "benchmark.json").write_text(json.dumps(result, indent=2))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
