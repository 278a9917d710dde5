"""`detect`: a lake (or exchange-log files) in, flagged accounts and clusters out."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from distillguard.detect.boost import AccountBoost
from distillguard.detect.config import DetectConfig
from distillguard.detect.outputs import (
    account_rows,
    cluster_rows,
    cluster_stats,
    write_findings,
    write_tables,
)
from distillguard.detect.replay import replay
from distillguard.detect.report import write_report
from distillguard.detect.results import AccountResult, ClusterResult, build_results
from distillguard.detect.signals_stage import signals_sql, signals_to_parquet
from distillguard.ingest import Lake, ingest
from distillguard.ingest.lake import connect, sql_path


@dataclass(frozen=True)
class DetectSummary:
    out: Path
    exchanges: int
    accounts: list[AccountResult]
    clusters: list[ClusterResult]
    findings: int
    seconds: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        flagged = sum(a.flagged for a in self.accounts)
        review = sum(a.review for a in self.accounts)
        return (
            f"detect: {self.exchanges:,} exchanges, {len(self.accounts):,} accounts, "
            f"{flagged:,} flagged, {review:,} for review, "
            f"{sum(c.flagged for c in self.clusters)} flagged clusters, "
            f"{self.findings} findings -> {self.out}"
        )


def _lake(paths: list[Path], accounts: list[Path], out: Path) -> Lake:
    if len(paths) == 1 and (paths[0] / "exchanges").is_dir():
        return Lake(paths[0])
    lake = Lake(out / "lake")
    ingest(paths, lake.root, accounts)
    return lake


def detect(
    paths: list[Path],
    out: Path,
    accounts: list[Path] | None = None,
    config: DetectConfig | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    boost: AccountBoost | None = None,
) -> DetectSummary:
    config = config or DetectConfig()
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    lake = _lake(paths, accounts or [], out)
    seconds["ingest"] = time.perf_counter() - started
    con = connect(out)
    signals_dir = out / "signals"
    started = time.perf_counter()
    exchanges = signals_to_parquet(lake, signals_dir, progress)
    seconds["signals"] = time.perf_counter() - started
    started = time.perf_counter()
    con.execute(f"CREATE TEMP TABLE signals AS SELECT * FROM {signals_sql(signals_dir)}")
    account_table = None
    if lake.accounts_path.exists():
        con.execute(
            "CREATE TEMP TABLE accounts AS SELECT * FROM "
            f"read_parquet('{sql_path(lake.accounts_path)}')"
        )
        account_table = "accounts"
    if boost is not None:
        boost.prepare(con, "signals", account_table)
    result = replay(con, "signals", account_table, config, boost)
    seconds["profiles_linking_scoring"] = time.perf_counter() - started
    started = time.perf_counter()
    account_results, clusters = build_results(result, (boost.rule,) if boost else ())
    write_tables(
        out,
        account_rows(account_results),
        cluster_rows(clusters, cluster_stats(con, "signals", clusters)),
    )
    findings = write_findings(out / "findings.ocsf.jsonl", account_results, clusters)
    write_report(
        out / "report.html",
        con,
        "signals",
        exchanges=exchanges,
        accounts=account_results,
        clusters=clusters,
    )
    seconds["outputs"] = time.perf_counter() - started
    con.close()
    return DetectSummary(out, exchanges, account_results, clusters, findings, seconds)
