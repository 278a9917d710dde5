"""What runs inside Spark tasks, and the Arrow types that cross between Spark and DuckDB."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator

import duckdb
import pyarrow as pa

from distillguard.schema import EXCHANGES_SCHEMA
from distillguard.schema.conform import cast_to_exchange_schema
from distillguard.signals.registry import compute_signals
from distillguard.store.duck import connect_utc

# Spark has no unsigned integers: they travel one size up, and are cast back on the driver.
_WIDER = {pa.uint8(): pa.int16(), pa.uint16(): pa.int32(), pa.uint32(): pa.int64()}
ArrowTask = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]


def _safe_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):  # Spark's timestamps are microseconds
        return pa.timestamp("us", tz=t.tz)
    return _WIDER.get(t, t)


def spark_safe(schema: pa.Schema) -> pa.Schema:
    """The schema with every type Spark's Arrow conversion takes."""
    return pa.schema([f.with_type(_safe_type(f.type)) for f in schema])


SIGNALS_SCHEMA = spark_safe(compute_signals(EXCHANGES_SCHEMA.empty_table()).schema)


def ignore_interrupts() -> None:
    """A task's worker keeps running through Ctrl-C: the terminal sends it to every process
    of the job, and a worker that died of it made the JVM print pages of "Python worker
    exited unexpectedly". The driver stops the session, which ends the tasks."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def signal_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The signals of a task's exchanges: the embedded engine's own function."""
    ignore_interrupts()
    for batch in batches:
        exchanges = cast_to_exchange_schema(batch)
        if exchanges is None:
            raise ValueError("a lake file does not hold exchange-log columns; re-ingest it")
        yield from compute_signals(exchanges).cast(SIGNALS_SCHEMA).to_batches()


def shard_connection() -> duckdb.DuckDBPyConnection:
    """A DuckDB for one task: one thread (Spark runs a task per core) and UTC, so hours
    are cut the same on every executor whatever its local zone."""
    con = connect_utc()
    con.execute("SET threads = 1")
    return con


def shard_sql(sql: str, schema: pa.Schema, reference: pa.Table | None = None) -> ArrowTask:
    """A mapInArrow function that runs `sql` over the task's rows (as table `shard`, with
    `reference` beside it) and yields the result in `schema`."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        ignore_interrupts()
        rows = list(batches)
        if not rows or not any(b.num_rows for b in rows):  # an empty partition
            return
        with shard_connection() as con:
            con.register("shard", pa.Table.from_batches(rows))
            if reference is not None:
                con.register("reference", reference)
            yield from con.sql(sql).to_arrow_table().cast(schema).to_batches()

    return run


def output_schema(sql: str, shard: pa.Schema, reference: pa.Table | None) -> pa.Schema:
    """The schema `sql` gives: the SQL run over no rows."""
    with shard_connection() as con:
        con.register("shard", shard.empty_table())
        if reference is not None:
            con.register("reference", reference)
        return con.sql(sql).to_arrow_table().schema
