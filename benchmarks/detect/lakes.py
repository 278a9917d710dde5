"""The detect benchmark's two lakes, built with the simulator: dense and sparse.

    python -m benchmarks.detect.lakes dense  --out bench-out/lakes/dense
    python -m benchmarks.detect.lakes sparse --out bench-out/lakes/sparse

Both cover 14 days (seed 0, `--scale 0.01`). `dense` is reported-2026: 1,707,755 exchanges
from 12,444 accounts, about 140 each. `sparse` is `benchmarks/detect/sparse-2026.yaml`
(reported-2026's populations and campaigns with more accounts at lower rates): 614,881
exchanges from 15,430 accounts, about 40 each, close to the held-out reported lake
(537,630 exchanges, 15,500 active accounts). Each runs, and prints, the two commands a
user would: `distillguard simulate`, then `distillguard ingest` into OUT/lake; the detect
benchmark then runs on OUT/lake.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

PRESETS = {
    "dense": "reported-2026",
    "sparse": str(Path(__file__).with_name("sparse-2026.yaml")),
}


def commands(kind: str, out: Path) -> list[list[str]]:
    """The simulate and ingest command lines for one of the benchmark's lakes."""
    cli = [sys.executable, "-m", "distillguard.cli.main"]
    traffic = out / "traffic"
    simulate = ["simulate", "--preset", PRESETS[kind], "--scale", "0.01", "--days", "14"]
    return [
        [*cli, *simulate, "--seed", "0", "--out", str(traffic)],
        [
            *cli,
            "ingest",
            str(traffic / "exchanges.parquet"),
            "--accounts",
            str(traffic / "accounts.parquet"),
            "--out",
            str(out / "lake"),
        ],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=sorted(PRESETS))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if (args.out / "lake").exists():
        raise SystemExit(f"{args.out / 'lake'} exists: remove it or choose another --out")
    for argv in commands(args.kind, args.out):
        print("$ distillguard", shlex.join(argv[3:]), flush=True)
        subprocess.run(argv, check=True)
    print(f"lake: {args.out / 'lake'}")


if __name__ == "__main__":
    main()
