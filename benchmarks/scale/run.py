"""Scale benchmark: detect on DuckDB and on Spark local[2], on growing lakes.

    python -m benchmarks.scale.run [--scales 0.0067 0.033 0.1] [--engines duckdb spark]
                                   [--work bench-out/scale]

For each simulator scale it simulates 14 days of `reported-2026` (about 1.8M, 5M and 15M
exchanges at the default scales: benign populations have a floor of accounts, so the count
is not proportional to the scale at small scales), ingests it, and runs
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


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "distillguard.cli.main", *args]


def lake_of(scale: str, work: Path, seed: int) -> Path:
    """The lake of 14 days at this simulator scale, built once and kept for the next run."""
    lake = work / f"lake-{scale}"
    if (lake / "exchanges").is_dir():
        return lake
    traffic = work / f"traffic-{scale}"
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
    parser.add_argument("--scales", nargs="+", default=["0.0067", "0.033", "0.1"])
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"])
    parser.add_argument("--work", type=Path, default=Path("bench-out/scale"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results_path = args.work / "scale.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for scale in args.scales:
        lake = lake_of(scale, args.work, args.seed)
        for engine in args.engines:
            result = detect_on(lake, engine, args.work / f"detect-{scale}-{engine}")
            results[f"{scale}/{engine}"] = result
            results_path.write_text(json.dumps(results, indent=2))
            print(f"scale {scale} {engine:>6}: {json.dumps(result)}", flush=True)
    print_table(results)


def print_table(results: dict[str, dict[str, float]]) -> None:
    head = "| scale | engine | exchanges | seconds | exchanges/s | signals | rest | peak RSS MB |"
    print("\n" + head)
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for key, r in results.items():
        scale, engine = key.split("/")
        print(
            f"| {scale} | {engine} | {r['exchanges']:,} | {r['seconds']} | "
            f"{r['exchanges_per_s']:,} | {r.get('stage_signals', '-')} | "
            f"{r.get('stage_profiles_linking_scoring', '-')} | {r['peak_rss_mb']:,} |"
        )


if __name__ == "__main__":
    main()
