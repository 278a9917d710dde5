"""The account and cluster tables (CSV and Parquet) as a sink; the writing stays in
detect/outputs.py, which detect's run calls directly."""

from __future__ import annotations

from pathlib import Path

from distillguard.detect.outputs import account_rows, cluster_rows, write_tables
from distillguard.findings.sink import RunResults, SinkOutput


class TablesSink:
    name = "tables"
    description = "accounts.csv|parquet and clusters.csv|parquet"

    def write(self, run: RunResults, out: Path) -> SinkOutput:
        accounts = account_rows(list(run.accounts))
        clusters = cluster_rows(list(run.clusters), dict(run.cluster_stats))
        out.mkdir(parents=True, exist_ok=True)
        write_tables(out, accounts, clusters)
        paths = tuple(
            out / f"{stem}.{ext}" for stem in ("accounts", "clusters") for ext in ("csv", "parquet")
        )
        return SinkOutput(paths, len(accounts) + len(clusters))
