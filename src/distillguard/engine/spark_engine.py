"""Apache Spark: the same signals and aggregates, computed across executors.

- Signals: `mapInArrow` over the lake's exchanges, calling the very functions the embedded
  engine calls (signals.registry.compute_signals), so there is no second copy of any signal.
- Hourly partials and traffic keys: every row they aggregate belongs to one account, so the
  signals are repartitioned by account and each task runs the same DuckDB SQL the embedded
  engine runs (profiles.hourly, linking.keys) over its shard: the same rows, defined once
  (floating sums equal up to the order of addition).
- The population's harvest reference is not per account: its per-hour sums are one Spark
  SQL aggregation (the same SQL text DuckDB runs), and the moving window over those few
  rows runs on the driver.
Shards write Parquet beside the signals, which the driver's DuckDB reads: nothing large is
collected through Spark's driver. The graph steps (components, dense blocks, Leiden) run on
the driver over one window's coded keys. Executors need distillguard, DuckDB and pyarrow
(the wheel brings them), DuckDB at the driver's version.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.detect.signals_stage import signals_sql, write_no_signals
from distillguard.engine.base import HOURLY_TABLE, KEYS_TABLE, SIGNALS_TABLE, Progress
from distillguard.engine.duckdb_engine import time_range
from distillguard.engine.spark_errors import is_read_failure, spark_reason, start_failure
from distillguard.engine.spark_interrupts import loud_again, quiet_interrupts
from distillguard.engine.spark_tasks import (
    SIGNALS_SCHEMA,
    output_schema,
    shard_sql,
    signal_batches,
    spark_safe,
)
from distillguard.errors import ConfigError, UserError
from distillguard.ingest.lake import Lake, sql_path
from distillguard.ingest.remote import LakeLike, RemoteLake
from distillguard.linking.keys import hour_keys_sql
from distillguard.profiles.hourly import hourly_sql, release
from distillguard.profiles.population import per_hour_harvest_sql, reference_sql

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

T = TypeVar("T")

# Spark's defaults write timestamps as INT96, which DuckDB reads without a zone.
BASE_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.ui.showConsoleProgress": "false",
}
# Local mode: the Python workers are this interpreter, and nothing listens on, or calls,
# an address but loopback. A cluster sets its own.
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


def _uri(path: Path) -> str:
    """A file URI, so a cluster whose default filesystem is HDFS still reads local paths.
    Not percent-encoded: Hadoop's Path takes the string's characters as they are, so
    `as_uri()`'s `my%20lake` named a folder that does not exist."""
    return "file://" + path.resolve().as_posix()


# What spark-submit accepts as a master: yarn, or a URL of local, spark or k8s.
MASTER_URL = re.compile(
    r"yarn|local(\[\s*(\*|[1-9]\d*)\s*(,\s*\d+\s*)?\])?|local-cluster\[\s*\d+(\s*,\s*\d+){2}\s*\]"
    r"|(spark|k8s)://\S+"
)


class SparkEngine:
    """Signals, hourly partials and keys on Spark; see the module's docstring."""

    name = "spark"

    def __init__(self, master: str = "local[2]", conf: dict[str, str] | None = None) -> None:
        if not MASTER_URL.fullmatch(master):  # spark-submit says so only in a JVM trace
            raise ConfigError(
                f"bad Spark master {master!r}: use local, local[N], local[*], spark://HOST:PORT,"
                " yarn or k8s://URL"
            )
        self.master = master
        local = master.startswith("local")
        own = {**LOCAL_CONF, "spark.pyspark.python": sys.executable} if local else {}
        self.conf = {**BASE_CONF, **own, **(conf or {})}
        self._session: SparkSession | None = None
        self._created = False
        self._keys: dict[Path, tuple[Path, pa.Schema]] = {}

    @property
    def spark(self) -> SparkSession:
        if self._session is None:
            self._session = self._start()
        return self._session

    def _start(self) -> SparkSession:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise UserError(
                "--engine spark needs pyspark: pip install 'distillguard[spark]'"
            ) from None
        if "spark.pyspark.python" in self.conf:  # pyspark's workers run $PYSPARK_PYTHON,
            # which must import distillguard: a user's other interpreter could not
            os.environ["PYSPARK_PYTHON"] = self.conf["spark.pyspark.python"]
        self._created = SparkSession.getActiveSession() is None
        builder = SparkSession.builder.master(self.master).appName("distillguard")
        for key, value in self.conf.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # the JVM gateway's failures are not one class
            raise UserError(start_failure(exc)) from None
        session.sparkContext.setLogLevel("ERROR")
        if self._created:
            quiet_interrupts()
        return session

    def _schema(self, schema: pa.Schema) -> Any:
        from pyspark.sql.pandas.types import from_arrow_schema

        return from_arrow_schema(schema)

    def signals(self, lake: LakeLike, out: Path, progress: Progress | None = None) -> int:
        reader = self.spark.read.option("mergeSchema", "true")
        where = lake.exchanges_uri if isinstance(lake, RemoteLake) else _uri(lake.exchanges_dir)
        if not self._holds_exchanges(lake, where):  # as DuckDB's: 0 exchanges, not an error
            shutil.rmtree(out, ignore_errors=True)
            write_no_signals(out)
            return 0
        exchanges = _read(lambda: reader.parquet(where), where)
        signals = exchanges.mapInArrow(signal_batches, self._schema(SIGNALS_SCHEMA))
        _read(lambda: signals.write.mode("overwrite").parquet(_uri(out)), where, job=True)
        rows = int(sum(pq.read_metadata(f).num_rows for f in out.glob("*.parquet")))
        if progress:
            progress(rows)
        return rows

    def accounts(self, lake: LakeLike, scratch: Path) -> Path | None:
        """A remote lake's accounts come to the driver through Spark (one small table)."""
        if isinstance(lake, Lake):
            return lake.accounts_path if lake.accounts_path.exists() else None
        where = lake.accounts_uri
        if not _read(lambda: self._exists(where), where):
            return None
        pq.write_table(_read(lambda: self.spark.read.parquet(where).toArrow(), where), scratch)
        return scratch

    def _holds_exchanges(self, lake: LakeLike, where: str) -> bool:
        """Whether the lake has exchange files (a lake of accounts alone has none)."""
        if isinstance(lake, Lake):
            return bool(lake.exchange_files())
        return _read(lambda: self._exists(where), where)

    def _exists(self, where: str) -> bool:
        """Whether the path exists, asked of its Hadoop filesystem (HDFS, S3A, ...)."""
        context = self.spark.sparkContext
        path = context._jvm.org.apache.hadoop.fs.Path(where)  # type: ignore[union-attr]
        filesystem = path.getFileSystem(context._jsc.hadoopConfiguration())
        return bool(filesystem.exists(path))

    def attach(self, con: duckdb.DuckDBPyConnection, signals_dir: Path) -> str:
        """A view, not a copy: on Spark the driver reads the signals only for the outputs."""
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {SIGNALS_TABLE} AS SELECT * FROM "
            f"{signals_sql(signals_dir)}"
        )
        return SIGNALS_TABLE

    def _by_account(self, signals_dir: Path) -> DataFrame:
        return self.spark.read.parquet(_uri(signals_dir)).repartition("account_id")

    def _shards(self, signals_dir: Path, sql: str, target: Path, ref: pa.Table | None) -> pa.Schema:
        """Write `sql` over every account shard as Parquet in `target`; return the schema
        the driver reads it back in (Spark's wider types cast back)."""
        frame = self._by_account(signals_dir)
        schema = output_schema(sql, _shard_input(signals_dir), ref)
        safe = spark_safe(schema)
        task = shard_sql(sql, safe, ref)
        frame.mapInArrow(task, self._schema(safe)).write.mode("overwrite").parquet(_uri(target))
        return schema

    def _load(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        target: Path,
        schema: pa.Schema,
        where: str = "TRUE",
    ) -> None:
        columns = ", ".join(
            f'CAST("{f.name}" AS {_duckdb_type(con, f.type)}) AS "{f.name}"' for f in schema
        )
        source = f"read_parquet('{sql_path(target / '*.parquet')}')"
        if not any(target.glob("*.parquet")):  # no rows at all: the schema alone
            con.register("empty_shards", schema.empty_table())
            source = "empty_shards"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {columns} FROM {source} WHERE {where}"
        )

    def hourly(
        self, con: duckdb.DuckDBPyConnection, signals_dir: Path, window_hours: int
    ) -> str | None:
        self._keys.pop(signals_dir, None)  # new signals: keys are computed again
        self.spark.read.parquet(_uri(signals_dir)).createOrReplaceTempView("signals")
        first_seen = self.spark.sql("SELECT model, min(ts) AS ts FROM signals GROUP BY model")
        per_hour = self.spark.sql(per_hour_harvest_sql("signals"))
        con.register("model_first_ts", first_seen.toArrow())
        con.register("harvest_per_hour", per_hour.toArrow())
        try:
            new_model, _ = release(con, "model_first_ts")
            reference = con.sql(reference_sql("harvest_per_hour", window_hours)).to_arrow_table()
        finally:
            con.unregister("model_first_ts")
            con.unregister("harvest_per_hour")
        sql = hourly_sql("shard", new_model, window_hours, "SELECT * FROM reference")
        target = signals_dir.with_name(signals_dir.name + "_hourly")
        schema = self._shards(signals_dir, sql, target, reference)
        self._load(con, HOURLY_TABLE, target, schema)
        return new_model

    def hour_keys(
        self,
        con: duckdb.DuckDBPyConnection,
        signals_dir: Path,
        span: tuple[np.datetime64, np.datetime64],
        days: np.ndarray,
    ) -> None:
        """All keys are written once per signals dataset (one Spark job), then sliced by the
        span (the days with traffic are all the rows there are)."""
        start, end = span
        if signals_dir not in self._keys:
            target = signals_dir.with_name(signals_dir.name + "_keys")
            schema = self._shards(signals_dir, hour_keys_sql("shard"), target, None)
            self._keys[signals_dir] = (target, schema)
        target, schema = self._keys[signals_dir]
        self._load(con, KEYS_TABLE, target, schema, time_range("hour", start, end))

    def close(self) -> None:
        """Stop the session only if this engine started it (not a host's, on Databricks)."""
        session, self._session = self._session, None
        if session is not None and self._created:
            try:  # OFF: stopping with tasks still running (after Ctrl-C) logs each one killed
                session.sparkContext.setLogLevel("OFF")
            finally:
                try:
                    session.stop()
                finally:
                    loud_again()


def _read(read: Callable[[], T], where: str, *, job: bool = False) -> T:
    """What `read` returns, or a one-line error (Spark's own is pages of JVM stack). A
    `job` over the lake's files is the user's mistake only when a file could not be read
    (damaged mid-file, where the footer is whole and the listing found nothing wrong);
    any other failure of a job is ours, and keeps its traceback."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        return read()
    except (PySparkException, Py4JError) as exc:  # a missing path, an unknown host or scheme
        if job and not is_read_failure(str(exc)):
            raise
        raise UserError(f"Spark cannot read {where}: {spark_reason(exc)}") from None


def _duckdb_type(con: duckdb.DuckDBPyConnection, arrow_type: pa.DataType) -> str:
    """The DuckDB type name of an Arrow type, as DuckDB itself maps it."""
    con.register("type_probe", pa.table({"x": pa.array([], arrow_type)}))
    try:
        return str(con.execute("DESCRIBE SELECT x FROM type_probe").fetchall()[0][1])
    finally:
        con.unregister("type_probe")


def _shard_input(signals_dir: Path) -> pa.Schema:
    """The schema a shard's rows arrive in: the signals as Spark hands them to a task."""
    first = next(signals_dir.glob("*.parquet"), None)
    return spark_safe(pq.read_schema(first) if first else SIGNALS_SCHEMA)
