"""The lake: exchanges as Parquet partitioned by day, accounts as one Parquet table.

Rows are first staged as Parquet, then merged by DuckDB, which drops re-delivered
request_ids (the first one staged wins) and ids the lake already holds. DuckDB spills to
disk under its memory limit, so a large ingest needs bounded memory.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from distillguard.schema import ACCOUNT_FIELDS, ACCOUNTS_SCHEMA
from distillguard.schema.columnar import rows_to_table

DUCKDB_MEMORY_LIMIT = "1GB"


def connect(temp_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-process DuckDB with a memory limit, spilling to temp_dir when given."""
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    if temp_dir is not None:
        con.execute(f"SET temp_directory = '{temp_dir}'")
    return con


def fetch_one(con: duckdb.DuckDBPyConnection, query: str) -> tuple[Any, ...]:
    """The single row an aggregate query returns."""
    row = con.execute(query).fetchone()
    if row is None:
        raise RuntimeError(f"query returned no row: {query[:80]}")
    return tuple(row)


def sql_path(path: Path) -> str:
    """A path quoted for a DuckDB string literal."""
    return str(path).replace("'", "''")


@dataclass(frozen=True)
class Lake:
    """Where a lake's tables live under its root directory."""

    root: Path

    @property
    def exchanges_dir(self) -> Path:
        return self.root / "exchanges"

    @property
    def accounts_path(self) -> Path:
        return self.root / "accounts" / "accounts.parquet"

    @property
    def quarantine_path(self) -> Path:
        return self.root / "quarantine.jsonl"

    @property
    def staging_dir(self) -> Path:
        return self.root / "_staging"

    def exchange_files(self) -> list[Path]:
        return sorted(self.exchanges_dir.glob("date=*/*.parquet"))

    def exchanges_sql(self) -> str:
        """A DuckDB table expression over the lake's exchanges (with the `date` partition)."""
        glob = sql_path(self.exchanges_dir / "date=*" / "*.parquet")
        return f"read_parquet('{glob}', hive_partitioning = true, union_by_name = true)"


def write_staged(directory: Path, index: int, table: pa.Table) -> None:
    """Stage one chunk's exchanges as one Parquet file per day, in the lake's own layout, so
    that a chunk with no duplicates is moved into the lake without being rewritten."""
    dates = pc.strftime(table["ts"], format="%Y-%m-%d")
    for day in pc.unique(dates).to_pylist():
        part = directory / f"date={day}"
        part.mkdir(exist_ok=True)
        rows = table.filter(pc.equal(dates, day))
        pq.write_table(rows, part / f"part-{index:08d}.parquet", compression="zstd")


class StagingArea:
    """A private directory of staged chunks, merged into the lake at the end of a run.

    Dedup reads only request ids: the first delivery of an id (by chunk, then position)
    is kept, later ones and ids the lake already holds are dropped. Files with nothing to
    drop are moved into the lake; only files with drops are rewritten.
    """

    def __init__(self, lake: Lake) -> None:
        self.run = uuid.uuid4().hex[:12]
        self.dir = lake.staging_dir / self.run
        self.dir.mkdir(parents=True)

    def _files(self) -> list[Path]:
        return sorted(self.dir.glob("date=*/part-*.parquet"))

    def _drops(self, con: duckdb.DuckDBPyConnection, lake: Lake) -> dict[str, list[int]]:
        staged = sql_path(self.dir / "date=*" / "part-*.parquet")
        existing = "SELECT NULL::VARCHAR AS request_id WHERE false"
        if lake.exchange_files():
            existing = f"SELECT DISTINCT request_id FROM {lake.exchanges_sql()}"
        rows = con.execute(f"""
            WITH s AS (
              SELECT request_id, filename, file_row_number,
                     regexp_extract(filename, 'part-([0-9]+)', 1)::BIGINT AS chunk
              FROM read_parquet('{staged}', filename = true, file_row_number = true,
                                hive_partitioning = false)
            ), ranked AS (
              SELECT *, row_number() OVER (
                PARTITION BY request_id ORDER BY chunk, filename, file_row_number) AS rn
              FROM s
            )
            SELECT filename, list(file_row_number) FROM ranked r
            LEFT JOIN ({existing}) e USING (request_id)
            WHERE r.rn > 1 OR e.request_id IS NOT NULL
            GROUP BY filename
        """).fetchall()
        return {str(name): list(numbers) for name, numbers in rows}

    def merge_into(self, lake: Lake) -> int:
        """Move staged rows not yet in the lake into it; returns how many were added."""
        files = self._files()
        if not files:
            return 0
        con = connect(self.dir)
        drops = self._drops(con, lake)
        added = 0
        for path in files:
            target = (
                lake.exchanges_dir / path.parent.name / f"part-{self.run}-{path.stem[5:]}.parquet"
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            dropped = drops.get(str(path), [])
            added += pq.ParquetFile(path).metadata.num_rows - len(dropped)
            if not dropped:
                path.replace(target)
            elif len(dropped) < pq.ParquetFile(path).metadata.num_rows:
                _rewrite_without(con, path, dropped, target)
        con.close()
        return added

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _rewrite_without(
    con: duckdb.DuckDBPyConnection, path: Path, rows: list[int], target: Path
) -> None:
    # hive_partitioning = false: left to itself DuckDB reads the day out of the path and
    # would write it back as a `date` column, which pyarrow and Spark refuse (see layout).
    con.execute(
        f"""COPY (SELECT * EXCLUDE (file_row_number)
                  FROM read_parquet('{sql_path(path)}', file_row_number = true,
                                    hive_partitioning = false)
                  WHERE NOT list_contains(?, file_row_number))
            TO '{sql_path(target)}' (FORMAT parquet, COMPRESSION zstd)""",
        [rows],
    )


def merge_accounts(lake: Lake, rows: list[Any]) -> int:
    """Upsert validated account rows (a later row for an account wins); returns the table size."""
    new = rows_to_table(rows, ACCOUNT_FIELDS, ACCOUNTS_SCHEMA)
    if lake.accounts_path.exists():
        new = pa.concat_tables([pq.read_table(lake.accounts_path, schema=ACCOUNTS_SCHEMA), new])
    latest: dict[str, int] = {}
    for index, account_id in enumerate(new["account_id"].to_pylist()):
        latest[account_id] = index
    merged = new.take(pa.array(sorted(latest.values()), pa.int64()))
    lake.accounts_path.parent.mkdir(parents=True, exist_ok=True)
    partial = lake.accounts_path.with_suffix(".parquet.partial")
    pq.write_table(merged, partial, compression="zstd")
    partial.replace(lake.accounts_path)
    return int(merged.num_rows)
