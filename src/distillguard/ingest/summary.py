"""What a lake holds, for a person: counts, time range, top models and access paths."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from distillguard.errors import UserError
from distillguard.ingest.damaged import DAMAGED, damaged_parts
from distillguard.ingest.lake import Lake, connect, fetch_one, sql_path
from distillguard.ingest.quarantine import quarantined_rows


@dataclass(frozen=True)
class LakeSummary:
    exchanges: int
    accounts_active: int
    accounts_table: int
    days: int
    first_ts: str | None
    last_ts: str | None
    quarantined: int
    top_models: list[tuple[str, int]]
    top_access_paths: list[tuple[str, int]]


def summarize_lake(lake: Lake) -> LakeSummary:
    """Read the lake's tables with DuckDB and count what is there."""
    if not lake.root.is_dir():
        raise UserError(f"no lake at {lake.root}")
    damaged = damaged_parts(lake)
    if damaged:
        raise UserError(
            f"{lake.root} holds {len(damaged)} part file(s) that are not whole Parquet (a run"
            f" killed under an earlier version, a bad copy or disk damage), e.g. {damaged[0]};"
            f" the next ingest into it (or detect on it) moves them to {lake.root / DAMAGED}"
        )
    con = connect()
    exchanges, accounts, days, first, last = 0, 0, 0, None, None
    models: list[tuple[str, int]] = []
    paths: list[tuple[str, int]] = []
    if lake.exchange_files():
        table = lake.exchanges_sql()
        exchanges, accounts, days, first, last = fetch_one(
            con,
            f"SELECT count(*), count(DISTINCT account_id), count(DISTINCT date),"
            f" {_iso('min(ts)')}, {_iso('max(ts)')} FROM {table}",
        )
        models = _top(con, table, "model")
        paths = _top(con, table, "coalesce(access_path, '(none)')")
    accounts_table = 0
    if lake.accounts_path.exists():
        query = f"SELECT count(*) FROM read_parquet('{sql_path(lake.accounts_path)}')"
        accounts_table = int(fetch_one(con, query)[0])
    quarantined = quarantined_rows(lake.quarantine_path)
    con.close()
    return LakeSummary(
        exchanges, accounts, accounts_table, days, first, last, quarantined, models, paths
    )


def _iso(time: str) -> str:
    """SQL for a time as ISO 8601 in UTC to the millisecond, as the log writes times (a
    TIMESTAMPTZ cast to text reads '2026-02-02 00:06:37.883+00', which JSON readers and
    `date -d` take differently); the connection's zone is UTC."""
    return f"strftime({time}, '%Y-%m-%dT%H:%M:%S.%gZ')"


def _top(con: duckdb.DuckDBPyConnection, table: str, expr: str) -> list[tuple[str, int]]:
    rows = con.execute(
        f"SELECT {expr} AS k, count(*) AS n FROM {table} GROUP BY k ORDER BY n DESC LIMIT 5"
    ).fetchall()
    return [(str(k), int(n)) for k, n in rows]
