"""Writing results: accounts and clusters as CSV and Parquet (OCSF findings: findings/ocsf.py)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.detect.results import AccountResult, ClusterResult
from distillguard.signals.capabilities import CAPABILITIES

# Typed, so that a run with nothing flagged (or no clusters) writes the same schema as any
# other: readers (DuckDB, Spark, evaluate) see timestamps, never a column of type null.
_WHEN = pa.timestamp("us", tz="UTC")
ACCOUNT_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("score", pa.float64()),
        ("flagged", pa.bool_()),
        ("flagged_by", pa.string()),
        ("cluster_id", pa.string()),
        ("first_flagged_at", _WHEN),
        ("review", pa.bool_()),
        ("first_review_at", _WHEN),
        ("reasons", pa.string()),
    ]
)
CLUSTER_SCHEMA = pa.schema(
    [
        ("cluster_id", pa.string()),
        ("n_accounts", pa.int64()),
        ("n_exchanges", pa.int64()),
        ("score", pa.float64()),
        ("flagged", pa.bool_()),
        ("first_flagged_at", _WHEN),
        ("capabilities", pa.string()),
        ("reasons", pa.string()),
    ]
)
ACCOUNT_COLUMNS = tuple(ACCOUNT_SCHEMA.names)
CLUSTER_COLUMNS = tuple(CLUSTER_SCHEMA.names)


def _write(rows: list[dict[str, Any]], schema: pa.Schema, stem: Path) -> None:
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), stem.with_suffix(".parquet"))
    with stem.with_suffix(".csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=schema.names, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})


def worklist_order(account: AccountResult) -> tuple[bool, bool, float, str]:
    """Flagged accounts first, then those listed for review, each by score, highest first:
    the table reads top down as the order to look at them (ties by id, so runs compare)."""
    return (not account.flagged, not account.review, -account.score, account.account_id)


def account_rows(accounts: list[AccountResult]) -> list[dict[str, Any]]:
    """The accounts table's rows, in worklist order."""
    return [
        {
            "account_id": a.account_id,
            "score": a.score,
            "flagged": a.flagged,
            "flagged_by": a.flagged_by,
            "cluster_id": a.cluster_id,
            "first_flagged_at": a.first_flagged_at,
            "review": a.review,
            "first_review_at": a.first_review_at,
            "reasons": a.reasons,
        }
        for a in sorted(accounts, key=worklist_order)
    ]


def cluster_stats(
    con: duckdb.DuckDBPyConnection, signals: str, clusters: list[ClusterResult]
) -> dict[str, tuple[int, str]]:
    """(exchanges, capability mix) per cluster, from the signals table."""
    if not clusters:
        return {}
    pairs = pa.table(
        {
            "cluster_id": [c.cluster_id for c in clusters for _ in c.accounts],
            "account_id": [a for c in clusters for a in c.accounts],
        }
    )
    con.register("cluster_members", pairs)
    rows = con.execute(f"""
        SELECT m.cluster_id, s.capability, count(*) FROM {signals} s
        JOIN cluster_members m USING (account_id) GROUP BY ALL""").fetchall()
    con.unregister("cluster_members")
    totals: dict[str, dict[int, int]] = {}
    for cid, cap, n in rows:
        totals.setdefault(cid, {})[int(cap)] = int(n)
    return {cid: (sum(caps.values()), capability_mix(caps)) for cid, caps in totals.items()}


def capability_mix(counts: dict[int, int]) -> str:
    """Each capability's share of the exchanges (2% or more), largest first, ties by name:
    the same text whatever order an engine's rows came back in."""
    n = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda x: (-x[1], CAPABILITIES[x[0]]))
    return ", ".join(f"{CAPABILITIES[c]} {v / n:.0%}" for c, v in ranked if v / n >= 0.02)


def cluster_rows(
    clusters: list[ClusterResult], stats: dict[str, tuple[int, str]]
) -> list[dict[str, Any]]:
    """The clusters table's rows: highest score first, then the most accounts."""
    ranked = sorted(clusters, key=lambda c: (-c.score, -len(c.accounts), c.cluster_id))
    return [
        {
            "cluster_id": c.cluster_id,
            "n_accounts": len(c.accounts),
            "n_exchanges": stats.get(c.cluster_id, (0, ""))[0],
            "score": round(c.score, 4),
            "flagged": c.flagged,
            "first_flagged_at": c.first_flagged_at,
            "capabilities": stats.get(c.cluster_id, (0, ""))[1],
            "reasons": c.reasons,
        }
        for c in ranked
    ]


def write_tables(out: Path, accounts: list[dict[str, Any]], clusters: list[dict[str, Any]]) -> None:
    _write(accounts, ACCOUNT_SCHEMA, out / "accounts")
    _write(clusters, CLUSTER_SCHEMA, out / "clusters")
