"""Apache Spark: the same signals and aggregates, computed across executors.

- Signals: `mapInArrow` over the lake's exchanges, calling the very functions the embedded
  engine calls (signals.registry.compute_signals), so there is no second copy of any signal.
- Hourly partials and traffic keys: every row they aggregate belongs to one account, so the
  signals are repartitioned by account and each task runs the same DuckDB SQL the embedded
  engine runs (profiles.hourly, linking.keys) over its shard: exact, and defined once.
- The population's harvest reference is not per account: its per-hour sums are one Spark
  SQL aggregation (the same SQL text DuckDB runs), and the moving window over those few
  rows runs on the driver.
The graph steps (components, dense blocks, Leiden) run on the driver over the aggregated
edges: they read one window's key codes, thousands of times smaller than the log.
Executors need distillguard, DuckDB and pyarrow installed (the wheel brings them).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa

from distillguard.detect.signals_stage import signals_sql
from distillguard.engine.base import HOURLY_TABLE, KEYS_TABLE, SIGNALS_TABLE, Progress
from distillguard.engine.duckdb_engine import time_range
from distillguard.ingest.lake import Lake
from distillguard.linking.keys import hour_keys_sql
from distillguard.profiles.hourly import hourly_sql, release
from distillguard.profiles.population import per_hour_harvest_sql, reference_sql
from distillguard.schema import EXCHANGES_SCHEMA
from distillguard.schema.conform import cast_to_exchange_schema
from distillguard.signals.registry import compute_signals

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Spark's defaults write timestamps as INT96, which DuckDB reads without a zone.
BASE_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.showConsoleProgress": "false",
    # Local mode stays on loopback: nothing listens on, or calls, another address.
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


def _signal_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        exchanges = cast_to_exchange_schema(batch)
        if exchanges is None:
            raise ValueError("a lake file does not hold exchange-log columns; re-ingest it")
        yield from compute_signals(exchanges).cast(SIGNALS_SCHEMA).to_batches()


# Spark has no unsigned integers: they travel one size up, and are cast back on the driver.
_WIDER = {pa.uint8(): pa.int16(), pa.uint16(): pa.int32(), pa.uint32(): pa.int64()}


def _safe_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):  # Spark's timestamps are microseconds
        return pa.timestamp("us", tz=t.tz)
    return _WIDER.get(t, t)


def spark_safe(schema: pa.Schema) -> pa.Schema:
    """The schema with every type Spark's Arrow conversion takes."""
    return pa.schema([f.with_type(_safe_type(f.type)) for f in schema])


SIGNALS_SCHEMA = spark_safe(compute_signals(EXCHANGES_SCHEMA.empty_table()).schema)


def _shard_sql(sql: str, schema: pa.Schema, reference: pa.Table | None = None) -> Any:
    """A mapInArrow function that runs `sql` (over a table named `shard`, and `reference`)
    on each task's rows with an in-process DuckDB."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        shard = pa.Table.from_batches(list(batches))
        if shard.num_rows == 0:
            return
        with duckdb.connect() as con:
            con.register("shard", shard)
            if reference is not None:
                con.register("reference", reference)
            yield from con.sql(sql).to_arrow_table().cast(schema).to_batches()

    return run


class SparkEngine:
    """Signals, hourly partials and keys on Spark; see the module's docstring."""

    name = "spark"

    def __init__(self, master: str = "local[2]", conf: dict[str, str] | None = None) -> None:
        self.master = master
        local = {"spark.pyspark.python": sys.executable} if master.startswith("local") else {}
        # In local mode the Python workers are this interpreter, so they find this package
        # and its dependencies; on a cluster the executors' Python is the cluster's to set.
        self.conf = {**BASE_CONF, **local, **(conf or {})}
        self._session: SparkSession | None = None
        self._keys: pa.Table | None = None

    @property
    def spark(self) -> SparkSession:
        if self._session is None:
            from pyspark.sql import SparkSession

            if "spark.pyspark.python" in self.conf:
                os.environ.setdefault("PYSPARK_PYTHON", self.conf["spark.pyspark.python"])
            builder = SparkSession.builder.master(self.master).appName("distillguard")
            for key, value in self.conf.items():
                builder = builder.config(key, value)
            self._session = builder.getOrCreate()
            self._session.sparkContext.setLogLevel("ERROR")
        return self._session

    def _schema(self, table: pa.Table) -> Any:
        from pyspark.sql.pandas.types import from_arrow_schema

        return from_arrow_schema(table.schema)

    def signals(self, lake: Lake, out: Path, progress: Progress | None = None) -> int:
        exchanges = self.spark.read.parquet(str(lake.root / "exchanges"))
        columns = [c for c in EXCHANGES_SCHEMA.names if c in exchanges.columns]
        signals = exchanges.select(*columns).mapInArrow(
            _signal_batches, self._schema(SIGNALS_SCHEMA.empty_table())
        )
        signals.write.mode("overwrite").parquet(str(out))
        rows = int(self.spark.read.parquet(str(out)).count())
        if progress:
            progress(rows)
        return rows

    def attach(self, con: duckdb.DuckDBPyConnection, signals_dir: Path) -> str:
        """A view, not a copy: on Spark the driver reads the signals only for the outputs."""
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {SIGNALS_TABLE} AS SELECT * FROM "
            f"{signals_sql(signals_dir)}"
        )
        return SIGNALS_TABLE

    def _by_account(self, signals_dir: Path) -> DataFrame:
        frame = self.spark.read.parquet(str(signals_dir))
        return frame.repartition("account_id").sortWithinPartitions("account_id", "ts")

    def _collect(self, frame: DataFrame, sql: str, reference: pa.Table | None = None) -> pa.Table:
        """`sql` over every account shard, gathered on the driver as one Arrow table."""
        with duckdb.connect() as local:  # the output's schema: the SQL over no rows
            empty = pa.Table.from_batches([], schema=self._arrow_schema(frame))
            local.register("shard", empty)
            if reference is not None:
                local.register("reference", reference)
            schema = local.sql(sql).to_arrow_table().schema
        safe = spark_safe(schema)
        shards = frame.mapInArrow(
            _shard_sql(sql, safe, reference), self._schema(safe.empty_table())
        )
        table = shards.toArrow()
        return table.cast(schema) if table.num_rows else schema.empty_table()

    def _arrow_schema(self, frame: DataFrame) -> pa.Schema:
        from pyspark.sql.pandas.types import to_arrow_schema

        return to_arrow_schema(frame.schema, timezone="UTC")

    def hourly(
        self, con: duckdb.DuckDBPyConnection, signals_dir: Path, window_hours: int
    ) -> str | None:
        self.spark.read.parquet(str(signals_dir)).createOrReplaceTempView("signals")
        first_seen = self.spark.sql(
            "SELECT model, min(ts) AS ts FROM signals GROUP BY model"
        ).toArrow()
        per_hour = self.spark.sql(per_hour_harvest_sql("signals")).toArrow()
        con.register("model_first_ts", first_seen)
        con.register("harvest_per_hour", per_hour)
        new_model, _ = release(con, "model_first_ts")
        reference = con.sql(reference_sql("harvest_per_hour", window_hours)).to_arrow_table()
        con.unregister("model_first_ts")
        con.unregister("harvest_per_hour")
        sql = hourly_sql("shard", new_model, window_hours, "SELECT * FROM reference")
        hourly = self._collect(self._by_account(signals_dir), sql, reference)
        con.register("spark_hourly", hourly)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {HOURLY_TABLE} AS SELECT * FROM spark_hourly")
        con.unregister("spark_hourly")
        return new_model

    def hour_keys(
        self,
        con: duckdb.DuckDBPyConnection,
        signals_dir: Path,
        start: np.datetime64,
        end: np.datetime64,
    ) -> None:
        """All keys are computed on the first call (one Spark job) and sliced after."""
        if self._keys is None:
            self._keys = self._collect(self._by_account(signals_dir), hour_keys_sql("shard"))
        con.register("spark_keys", self._keys)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {KEYS_TABLE} AS SELECT * FROM spark_keys "
            f"WHERE {time_range('hour', start, end)}"
        )
        con.unregister("spark_keys")

    def close(self) -> None:
        if self._session is not None:
            self._session.stop()
            self._session = None
