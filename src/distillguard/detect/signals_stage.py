"""Stage 1: every exchange of the lake through the per-exchange signals, into Parquet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.ingest.lake import Lake
from distillguard.signals.registry import compute_signals

BATCH_ROWS = 50_000
Progress = Callable[[int], None]


def signals_to_parquet(
    con: duckdb.DuckDBPyConnection, lake: Lake, out: Path, progress: Progress | None = None
) -> int:
    """Compute signals batch by batch (memory bounded by the batch) and write them."""
    query = f"SELECT * EXCLUDE (date) FROM {lake.exchanges_sql()}"
    reader = con.sql(query).to_arrow_reader(BATCH_ROWS)
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for batch in reader:
            table = compute_signals(pa.Table.from_batches([batch]))
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
