"""Parquet values as the lake keeps them: times in milliseconds (UTC where the file says
so), and whole numbers as integers.

pandas writes nanoseconds and Spark microseconds (or INT96), where the lake's times are
milliseconds. Read as they are, such columns failed the lake's cast, and each row then came
out of Arrow as a pandas `Timestamp`, which the row validator refused: every row of a
pandas- or Spark-written file was quarantined with a reason that said nothing of time.
Here each timestamp column is cut to milliseconds (as the JSON path reads ISO times), and
INT96 columns, which Spark and Hive write as UTC instants with no zone in the type, are
read as UTC. A time with no zone of any other kind stays without one, for the validator
to refuse by name, as it refuses "2026-11-20T10:00:00" in JSON.

pandas writes an integer column with a missing value as float64, and Spark may write a
count as a decimal: a column the lake keeps as integers is cast when every value in it is
a whole number (a fraction leaves the column as it is, for the validator to refuse).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from distillguard.schema import EXCHANGES_SCHEMA

LAKE_UNIT = "ms"


def read_parquet(path: Path, row_groups: Iterable[int] | None = None) -> pa.Table:
    """The file's rows (all, or those row groups), their times as the lake keeps them."""
    handle = pq.ParquetFile(path)
    table = handle.read() if row_groups is None else handle.read_row_groups(list(row_groups))
    return _as_lake(table, handle)


def first_rows(path: Path, limit: int) -> pa.Table:
    """Up to `limit` rows from the file's start, without reading the rest."""
    handle = pq.ParquetFile(path)
    batch = next(handle.iter_batches(batch_size=limit), None)
    if batch is None:
        return handle.schema_arrow.empty_table()
    return _as_lake(pa.Table.from_batches([batch]), handle)


def _as_lake(table: pa.Table, handle: pq.ParquetFile) -> pa.Table:
    return lake_numbers(lake_times(table, int96_columns(handle)))


def int96_columns(handle: pq.ParquetFile) -> set[str]:
    schema = handle.schema
    return {schema.column(i).path for i in range(len(schema))
            if schema.column(i).physical_type == "INT96"}  # fmt: skip


def lake_times(table: pa.Table, int96: set[str]) -> pa.Table:
    """Top-level timestamp columns in milliseconds; INT96 ones in UTC."""
    for index, field in enumerate(table.schema):
        kind = field.type
        if not pa.types.is_timestamp(kind):
            continue
        zone = kind.tz or ("UTC" if field.name in int96 else None)
        cut = pc.cast(table.column(index), pa.timestamp(LAKE_UNIT, tz=zone), safe=False)
        table = table.set_column(index, field.name, _within_python(cut))
    return table


def lake_numbers(table: pa.Table) -> pa.Table:
    """Float and decimal columns the lake keeps as integers, cast where all are whole."""
    for index, field in enumerate(table.schema):
        wanted = _INTEGERS.get(field.name)
        if wanted is None or not (pa.types.is_floating(field.type) or
                                  pa.types.is_decimal(field.type)):  # fmt: skip
            continue
        # a fraction, or past int64: left as it is, for the validator to say so row by row
        with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
            table = table.set_column(index, field.name, table.column(index).cast(wanted))
    return table


_INTEGERS = {f.name: f.type for f in EXCHANGES_SCHEMA if pa.types.is_integer(f.type)}


def _within_python(times: pa.ChunkedArray) -> pa.ChunkedArray:
    """Times Python can hold (years 1 to 9999); others null, for the validator to refuse:
    Arrow holds millions of years, and turning one such value into a row was an
    OverflowError that stopped the ingest."""
    millis = pc.cast(times, pa.int64())
    inside = pc.and_(pc.greater_equal(millis, _FIRST_MS), pc.less_equal(millis, _LAST_MS))
    if pc.all(pc.fill_null(inside, True)).as_py():
        return times
    return pc.if_else(inside, times, pa.scalar(None, times.type))


_FIRST_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
_LAST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
