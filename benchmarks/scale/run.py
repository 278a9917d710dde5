"""Scale benchmark: detect on DuckDB and on Spark local[2], on growing lakes.

    python -m benchmarks.scale.run [--sizes 1000000 5000000 15000000] [--engines duckdb spark]
                                   [--work bench-out/scale]

For each size it simulates `reported-2026` at the scale that writes about that many exchanges
in 14 days (the simulator writes ~15M at --scale 0.1), ingests it, and runs
`distillguard detect --json` with each engine in a child process: wall time, the detect's
own per-stage seconds, and the peak RSS of the whole process tree (the JVM included).
Results go to WORK/scale.json and print as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from benchmarks.memory import run_measured

EXCHANGES_PER_SCALE = 273_000_000  # 14 days of reported-2026 at --scale 1 (1.82M at 0.00667)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "distillguard.cli.main", *args]


def lake_of(size: int, work: Path, seed: int) -> Path:
    """A lake of about `size` exchanges, built once and kept for the next run."""
    lake = work / f"lake-{size}"
    if (lake / "exchanges").is_dir():
        return lake
    traffic = work / f"traffic-{size}"
    scale = f"{size / EXCHANGES_PER_SCALE:.5f}"
    run_measured(
        _cli(
            "simulate",
            "--preset",
            "reported-2026",
            "--scale",
            scale,
            "--days",
            "14",
            "--seed",
            str(seed),
            "--out",
            str(traffic),
        )
    )
    run_measured(
        _cli(
            "ingest",
            str(traffic / "exchanges.parquet"),
            "--accounts",
            str(traffic / "accounts.parquet"),
            "--out",
            str(lake),
        )
    )
    shutil.rmtree(traffic)
    return lake


def detect_on(lake: Path, engine: str, out: Path) -> dict[str, float]:
    shutil.rmtree(out, ignore_errors=True)
    measured = run_measured(
        _cli("detect", str(lake), "--out", str(out), "--engine", engine, "--json")
    )
    summary = json.loads(measured.stdout)
    exchanges = int(summary["exchanges"])
    return {
        "exchanges": exchanges,
        "seconds": round(measured.seconds, 1),
        "exchanges_per_s": round(exchanges / measured.seconds),
        "peak_rss_mb": round(measured.peak_rss_bytes / 1e6),
        **{f"stage_{k}": round(float(v), 1) for k, v in summary["seconds"].items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000, 15_000_000])
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"])
    parser.add_argument("--work", type=Path, default=Path("bench-out/scale"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results_path = args.work / "scale.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for size in args.sizes:
        lake = lake_of(size, args.work, args.seed)
        for engine in args.engines:
            result = detect_on(lake, engine, args.work / f"detect-{size}-{engine}")
            results[f"{size}/{engine}"] = result
            results_path.write_text(json.dumps(results, indent=2))
            print(f"{size:>11,} {engine:>6}: {json.dumps(result)}", flush=True)
    print("\n| lake | engine | exchanges | seconds | exchanges/s | peak RSS (MB) |")
    print("|---|---|---:|---:|---:|---:|")
    for key, r in results.items():
        size, engine = key.split("/")
        print(
            f"| {int(size):,} | {engine} | {r['exchanges']:,} | {r['seconds']} | "
            f"{r['exchanges_per_s']:,} | {r['peak_rss_mb']:,} |"
        )


if __name__ == "__main__":
    main()
