"""The lake: exchanges as Parquet partitioned by day, accounts as one Parquet table.

Rows are first staged as Parquet, then merged by DuckDB, which drops re-delivered
request_ids (the first one staged wins) and ids the lake already holds. DuckDB spills to
disk under its memory limit, so a large ingest needs bounded memory. Nothing appears in the
lake before it is complete: see `StagingArea` and `recover`.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from distillguard.faults import crash_point
from distillguard.ingest.damaged import damaged_parts, set_aside_damaged
from distillguard.store.atomic import (
    fsync_dir,
    fsync_file,
    remove_partials,
    write_bytes,
)
from distillguard.store.duck import connect_utc

DUCKDB_MEMORY_LIMIT = "1GB"


def connect(temp_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-process DuckDB with a memory limit, spilling to temp_dir when given."""
    con = connect_utc()
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


# What ingest, detect and watch write at a lake's root.
LAKE_ENTRIES = frozenset({"exchanges", "accounts", "quarantine.jsonl", "_staging", "_damaged"})


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

    def is_one(self) -> bool:
        """Whether the root holds a lake ingest wrote (its lock, a day partition or its
        accounts table), not merely folders a log export may also name exchanges/."""
        marks = (self.staging_dir / ".lock", self.accounts_path)
        days = self.exchanges_dir.is_dir() and any(self.exchanges_dir.glob("date=*"))
        return days or any(m.is_file() for m in marks)

    def owns(self, path: Path) -> bool:
        """Whether `path` is one of the lake's own files (tables, quarantine, staging and
        what watch keeps there), as opposed to, say, an inbox kept inside its folder."""
        try:
            top = path.resolve().relative_to(self.root.resolve()).parts[:1]
        except ValueError:
            return False
        return bool(top) and (top[0] in LAKE_ENTRIES or top[0].startswith("watch-"))

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
    drop are moved into the lake; only files with drops are rewritten (aside, in staging).

    The merge is a commit: every file the lake will gain is complete and on disk before a
    commit record naming its moves is published, and the moves are renames, so a crash
    before the record leaves the lake as it was (the next run removes the staging), and a
    crash after it leaves a record that the next run carries out (`recover`).
    """

    def __init__(self, lake: Lake) -> None:
        self.run = uuid.uuid4().hex[:12]
        self.dir = lake.staging_dir / self.run
        self.dir.mkdir(parents=True)
        self._committing = False

    def _files(self) -> list[Path]:
        return sorted(p for p in self.dir.rglob("part-*.parquet") if READY not in p.parts)

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

    def _plan(self, lake: Lake, con: duckdb.DuckDBPyConnection) -> tuple[list[Move], int]:
        """The moves that put the run's new rows in the lake, each source complete on disk."""
        drops = self._drops(con, lake)
        moves: list[Move] = []
        added = 0
        for path in self._files():
            relative = (
                path.parent.relative_to(self.dir) / f"part-{self.run}-{path.stem[5:]}.parquet"
            )
            dropped = drops.get(str(path), [])
            rows = pq.ParquetFile(path).metadata.num_rows
            added += rows - len(dropped)
            source = path
            if len(dropped) == rows:
                continue
            if dropped:
                source = self.dir / READY / relative
                source.parent.mkdir(parents=True, exist_ok=True)
                _rewrite_without(con, path, dropped, source)
                crash_point("ingest.rewritten")
            fsync_file(source)
            moves.append((source.relative_to(lake.root), Path("exchanges") / relative))
        return moves, added

    def merge_into(self, lake: Lake) -> int:
        """Move staged rows not yet in the lake into it; returns how many were added."""
        if not self._files():
            return 0
        con = connect(self.dir)
        try:
            moves, added = self._plan(lake, con)
        finally:
            con.close()
        record = self.dir / COMMIT_RECORD
        write_bytes(record, orjson.dumps([[str(a), str(b)] for a, b in moves]))
        self._committing = True
        crash_point("ingest.committed")
        _apply(lake, moves)
        self._committing = False
        return added

    def discard(self) -> None:
        """Remove the staging, unless a commit was cut short (an exception, SIGTERM) after
        its record was written: that is left for `recover` to carry out."""
        if not self._committing:
            shutil.rmtree(self.dir, ignore_errors=True)


Move = tuple[Path, Path]  # (from, to), relative to the lake's root
COMMIT_RECORD = "COMMIT.json"
READY = "_ready"


def _apply(lake: Lake, moves: list[Move]) -> None:
    """Carry out a commit's moves; a move already done is skipped, so it can be re-run."""
    parents: set[Path] = set()
    for relative_source, relative_target in moves:
        source, target = lake.root / relative_source, lake.root / relative_target
        if not source.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        source.replace(target)
        parents.add(target.parent)
        crash_point("ingest.moved")
    for parent in sorted(parents):
        fsync_dir(parent)


def needs_recovery(lake: Lake) -> bool:
    staged = lake.staging_dir.is_dir() and any(p.is_dir() for p in lake.staging_dir.iterdir())
    return staged or bool(damaged_parts(lake))


def recover(lake: Lake) -> int:
    """Finish or undo what dead runs left in the lake's staging, and set damaged part files
    aside; returns how many runs.

    The caller holds the lake's writer lock, so every run directory here is a dead run's.
    One with a commit record is carried out (its files were all complete before the record
    was written); one without never touched the lake and is removed.
    """
    set_aside_damaged(lake)
    if not lake.staging_dir.is_dir():
        return 0
    runs = [p for p in lake.staging_dir.iterdir() if p.is_dir()]
    for run in runs:
        record = run / COMMIT_RECORD
        if record.exists():
            moves = [(Path(a), Path(b)) for a, b in orjson.loads(record.read_bytes())]
            _apply(lake, moves)
        shutil.rmtree(run, ignore_errors=True)
    remove_partials(lake.accounts_path.parent)
    return len(runs)


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
