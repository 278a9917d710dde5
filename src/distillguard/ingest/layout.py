"""The lake's partition layout: a part file's day lives in its directory name only.

`exchanges/date=YYYY-MM-DD/part-*.parquet` is Hive partitioning, and Hive readers other
than DuckDB (pyarrow.dataset, Spark) refuse a part file that also holds its partition
column. Earlier versions wrote a `date` column into the files that had re-delivered rows
dropped (DuckDB added it from the path when it rewrote them); `migrate_partition_columns`
rewrites such files without it, so a lake written by any version reads everywhere.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

PARTITION_COLUMN = "date"


def holds_partition_column(path: Path) -> bool:
    return PARTITION_COLUMN in pq.read_schema(path).names


def drop_partition_column(path: Path) -> None:
    """Rewrite one part file without the partition column, replacing it atomically. The
    temporary name starts with a dot, which every Hive reader skips."""
    table = pq.ParquetFile(path).read()
    table = table.drop_columns([PARTITION_COLUMN])
    partial = path.parent / f".{path.name}.partial"
    pq.write_table(table, partial, compression="zstd")
    partial.replace(path)


def migrate_partition_columns(files: list[Path]) -> int:
    """Drop the partition column from every part file that holds one; returns how many."""
    stale = [path for path in files if holds_partition_column(path)]
    for path in stale:
        drop_partition_column(path)
    return len(stale)
