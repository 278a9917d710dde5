"""Stage 1: every exchange of the lake through the per-exchange signals, into Parquet.

Signals are pure functions of a batch, so batches go to worker processes (one per core)
and come back in order; memory is bounded by the batches in flight.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.ingest.lake import Lake
from distillguard.signals.registry import compute_signals

BATCH_ROWS = 50_000
Progress = Callable[[int], None]


def _signals(batch: pa.RecordBatch) -> pa.Table:
    return compute_signals(pa.Table.from_batches([batch]))


def _in_order(batches: Iterator[pa.RecordBatch], workers: int) -> Iterator[pa.Table]:
    if workers <= 1:
        yield from map(_signals, batches)
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("forkserver")) as pool:
        pending: deque[Future[pa.Table]] = deque()
        for batch in batches:
            pending.append(pool.submit(_signals, batch))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def signals_to_parquet(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    out: Path,
    progress: Progress | None = None,
    workers: int | None = None,
) -> int:
    """Compute signals batch by batch and write them; returns the number of exchanges."""
    query = f"SELECT * EXCLUDE (date) FROM {lake.exchanges_sql()}"
    total = int(con.sql(f"SELECT count(*) FROM {lake.exchanges_sql()}").fetchall()[0][0])
    workers = workers or (min(2, os.cpu_count() or 1) if total > 2 * BATCH_ROWS else 1)
    reader = con.sql(query).to_arrow_reader(BATCH_ROWS)
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for table in _in_order(iter(reader), workers):
            if writer is None:
                writer = pq.ParquetWriter(out, table.schema, compression="zstd")
            writer.write_table(table)
            rows += table.num_rows
            if progress:
                progress(table.num_rows)
    finally:
        if writer is not None:
            writer.close()
    return rows
