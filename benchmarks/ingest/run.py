"""Ingest benchmark: exchange-log JSONL into the lake, exchanges per second and peak memory.

    python -m benchmarks.ingest.run [--rows 1000000 250000] [--work bench-out/ingest]

Input files are generated once and kept in the work directory. Memory is the peak RSS of
the ingest process and its worker processes together, sampled from /proc.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from benchmarks.ingest.make_rows import write_rows
from benchmarks.memory import run_measured


def _input(work: Path, rows: int) -> Path:
    path = work / f"exchanges-{rows}.jsonl"
    if not path.exists():
        print(f"generating {rows:,} rows -> {path}", file=sys.stderr)
        write_rows(path.with_suffix(".partial"), rows)
        path.with_suffix(".partial").rename(path)
    return path


def bench(work: Path, rows: int) -> dict[str, float]:
    source = _input(work, rows)
    lake = work / f"lake-{rows}"
    shutil.rmtree(lake, ignore_errors=True)
    argv = [
        sys.executable,
        "-m",
        "distillguard.cli.main",
        "ingest",
        str(source),
        "--out",
        str(lake),
    ]
    measured = run_measured(argv)
    shutil.rmtree(lake, ignore_errors=True)
    return {
        "rows": rows,
        "input_mb": source.stat().st_size / 1e6,
        "seconds": measured.seconds,
        "exchanges_per_s": rows / measured.seconds,
        "peak_rss_mb": measured.peak_rss_bytes / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=Path("bench-out/ingest"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results = [bench(args.work, rows) for rows in args.rows]
    print("| rows | input MB | seconds | exchanges/s | peak RSS MB (all processes) |")
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['rows']:,.0f} | {r['input_mb']:,.0f} | {r['seconds']:.1f} "
            f"| {r['exchanges_per_s']:,.0f} | {r['peak_rss_mb']:,.0f} |"
        )
    (args.work / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
