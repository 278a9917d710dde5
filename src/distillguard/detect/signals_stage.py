"""Stage 1: every exchange of the lake through the per-exchange signals, into Parquet.

Signals are pure functions of a batch, so the lake's files go to worker processes (one per
core); each worker reads its file, computes the signals batch by batch and writes them as
one part of a Parquet dataset. Nothing but file names and row counts crosses between
processes, and memory is bounded by one batch per worker.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import as_completed
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.errors import UserError
from distillguard.faults import crash_point
from distillguard.ingest.lake import Lake, sql_path
from distillguard.schema import EXCHANGES_SCHEMA
from distillguard.schema.conform import cast_to_exchange_schema
from distillguard.workers import worker_pool

BATCH_ROWS = 50_000
Progress = Callable[[int], None]


def signals_sql(directory: Path) -> str:
    """A DuckDB table expression over a signals dataset written by `signals_to_parquet`."""
    return f"read_parquet('{sql_path(directory / '*.parquet')}')"


def _compute_signals(exchanges: pa.Table) -> pa.Table:
    """The registry's signals of a batch. Imported here, not at the top: the text models
    bring scikit-learn, which the worker processes need and the main process of a large
    run does not (importing it there cost 0.6 s before the workers could start)."""
    from distillguard.signals.registry import compute_signals

    return compute_signals(exchanges)


def _signal_file(source: Path, target: Path) -> int:
    """Signals of one lake file written to `target`; returns its number of exchanges."""
    rows = 0
    writer: pq.ParquetWriter | None = None
    try:
        for batch in pq.ParquetFile(source).iter_batches(BATCH_ROWS):
            exchanges = cast_to_exchange_schema(batch)
            if exchanges is None:
                raise UserError(f"{source} does not hold exchange-log columns; re-ingest it")
            table = _compute_signals(exchanges)
            if writer is None:
                writer = pq.ParquetWriter(target, table.schema, compression="zstd")
            writer.write_table(table)
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows


def _run(tasks: list[tuple[Path, Path]], workers: int) -> Iterator[int]:
    if workers <= 1:
        yield from (_signal_file(source, target) for source, target in tasks)
        return
    with worker_pool(workers) as pool:
        futures = [pool.submit(_signal_file, source, target) for source, target in tasks]
        yield from (future.result() for future in as_completed(futures))


def signals_to_parquet(
    lake: Lake, out: Path, progress: Progress | None = None, workers: int | None = None
) -> int:
    """Write the signals of every exchange as a dataset in `out`; returns the exchange count."""
    files = lake.exchange_files()
    total = sum(pq.read_metadata(f).num_rows for f in files)
    workers = workers or (min(2, os.cpu_count() or 1) if total > 2 * BATCH_ROWS else 1)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    tasks = [(f, out / f"part-{i:06d}.parquet") for i, f in enumerate(files)]
    rows = 0
    for done in _run(tasks, workers):
        rows += done
        crash_point("detect.signals")
        if progress:
            progress(done)
    if not rows:
        write_no_signals(out)
    return rows


def write_no_signals(out: Path) -> None:
    """An empty lake still gives a dataset with the signals' columns (for every engine)."""
    out.mkdir(parents=True, exist_ok=True)
    empty = _compute_signals(EXCHANGES_SCHEMA.empty_table())
    pq.write_table(empty, out / "part-empty.parquet")
