"""The embedded engine: worker processes for the signals, DuckDB on the driver for the rest."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from distillguard.detect.signals_stage import signals_sql, signals_to_parquet
from distillguard.engine.base import HOURLY_TABLE, KEYS_TABLE, SIGNALS_TABLE, Progress
from distillguard.ingest.remote import LakeLike, local_lake
from distillguard.linking.keys import hour_keys_sql
from distillguard.profiles.hourly import hourly_sql, release

DAY = np.timedelta64(24, "h")
# Signals whose Parquet is larger stay on disk (a view); 4.7M exchanges write about 240 MB,
# which held as a table ran within DuckDB's 1 GB, and 14.5M (880 MB) ran out of it.
IN_MEMORY_SIGNALS_BYTES = 256 * 2**20


def sql_time(t: np.datetime64) -> str:
    """The time in SQL, as whole seconds since the epoch."""
    return f"to_timestamp({int(t.astype('datetime64[s]').astype(np.int64))})"


def time_range(column: str, start: np.datetime64, end: np.datetime64) -> str:
    """`start <= column < end` in SQL, the bounds as whole seconds since the epoch."""
    return f"{column} >= {sql_time(start)} AND {column} < {sql_time(end)}"


class DuckDBEngine:
    """Today's code behind the engine contract."""

    name = "duckdb"

    def signals(self, lake: LakeLike, out: Path, progress: Progress | None = None) -> int:
        return signals_to_parquet(local_lake(lake, self.name), out, progress)

    def accounts(self, lake: LakeLike, scratch: Path) -> Path | None:
        path = local_lake(lake, self.name).accounts_path
        return path if path.exists() else None

    def attach(self, con: duckdb.DuckDBPyConnection, signals_dir: Path) -> str:
        """Held in memory while it fits (every later stage reads it, several times); past
        that a view over the Parquet, read again by each stage, as on Spark: the same rows,
        and a temp table that outgrows DuckDB's memory limit leaves the stages none."""
        size = sum(f.stat().st_size for f in signals_dir.glob("*.parquet"))
        kind = "TABLE" if size <= IN_MEMORY_SIGNALS_BYTES else "VIEW"
        con.execute(
            f"CREATE OR REPLACE TEMP {kind} {SIGNALS_TABLE} AS SELECT * FROM "
            f"{signals_sql(signals_dir)}"
        )
        return SIGNALS_TABLE

    def hourly(
        self, con: duckdb.DuckDBPyConnection, signals_dir: Path, window_hours: int
    ) -> str | None:
        signals = SIGNALS_TABLE
        new_model, _ = release(con, signals)
        sql = hourly_sql(signals, new_model, window_hours)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {HOURLY_TABLE} AS {sql}")
        return new_model

    def hour_keys(
        self,
        con: duckdb.DuckDBPyConnection,
        signals_dir: Path,
        span: tuple[np.datetime64, np.datetime64],
        days: np.ndarray,
    ) -> None:
        """A day at a time, and only days with traffic: keys are distinct per (account,
        hour), so days never overlap, and DuckDB's distinct then holds a day's keys in
        memory, not the run's."""
        start, end = span
        sql = hour_keys_sql(SIGNALS_TABLE)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {KEYS_TABLE} AS {sql} LIMIT 0")
        for midnight in days:
            first, last = max(midnight, start), min(midnight + DAY, end)
            day = f"(SELECT * FROM {SIGNALS_TABLE} WHERE {time_range('ts', first, last)})"
            con.execute(f"INSERT INTO {KEYS_TABLE} {hour_keys_sql(day)}")

    def close(self) -> None:
        """Nothing held."""
