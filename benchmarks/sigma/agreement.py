"""The exported Sigma rules against the classifiers, on a lake detect has run on.

    python -m benchmarks.sigma.agreement --lake LAKE --detect DETECT_OUT

Converts each rule with pySigma's DuckDB backend, runs the SQL on the lake (through the
logsource view `distillguard export sigma` writes) and compares the request ids it matches
with those whose classifier probability in DETECT_OUT/signals is at least 0.5. Prints, per
rule: exchanges, the share each matches, their agreement (the share of exchanges on which
both say the same) and the seconds the SQL took.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
from sigma.collection import SigmaCollection
from sigma.processing.pipeline import ProcessingPipeline
from sigma_backend_duckdb import DuckDBBackend

from distillguard.findings.sigma import EXCHANGES_VIEW, write_sigma
from distillguard.profiles.hourly import ELICITED


def _rule_sql(rule: Path) -> str:
    backend = DuckDBBackend(processing_pipeline=ProcessingPipeline())
    [query] = backend.convert(SigmaCollection.from_yaml(rule.read_text()))
    return str(query)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--detect", type=Path, required=True, help="detect's output folder")
    args = parser.parse_args()
    con = duckdb.connect()
    con.execute(EXCHANGES_VIEW.format(exchanges=f"{args.lake.as_posix()}/exchanges/*/*.parquet"))
    signals = f"read_parquet('{(args.detect / 'signals').as_posix()}/**/*.parquet')"
    [(total,)] = con.execute("SELECT count(*) FROM logs").fetchall()
    print("| rule | exchanges | classifier matches | rule matches | agreement | SQL seconds |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for rule in sorted(p for p in write_sigma(Path(folder)) if p.suffix == ".yml"):
            name = rule.stem.removeprefix("distillguard_")
            started = time.perf_counter()
            matched = {
                r[0] for r in con.execute(f"SELECT request_id FROM ({_rule_sql(rule)})").fetchall()
            }
            seconds = time.perf_counter() - started
            query = f"SELECT request_id FROM {signals} WHERE p_{name} >= {ELICITED}"
            expected = {r[0] for r in con.execute(query).fetchall()}
            agree = 1 - len(matched ^ expected) / total
            print(
                f"| {name} | {total:,} | {len(expected) / total:.2%} | "
                f"{len(matched) / total:.2%} | {agree:.4%} | {seconds:.2f} |"
            )


if __name__ == "__main__":
    main()
