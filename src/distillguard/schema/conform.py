"""Parquet in (or near) the lake's own schema, validated column-wise without leaving Arrow.

Converting Parquet rows to Python objects costs about 60 µs a row; this path casts the
columns to the exchange-log schema and checks the rules with Arrow compute. Rows that break
a rule are reported by position so that the caller can validate just those row by row and
quarantine them with a precise reason. A table whose columns cannot be cast returns None,
and the caller falls back to row-by-row validation for the whole chunk.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.schema.exchange_log import (
    BLOCK_TYPES,
    EXCHANGE_FIELDS,
    EXCHANGES_SCHEMA,
    MESSAGE_ROLES,
)
from distillguard.schema.validate import NON_EMPTY_FIELDS, NON_NEGATIVE_FIELDS


def cast_to_exchange_schema(table: pa.Table | pa.RecordBatch) -> pa.Table | None:
    """The table in the exchange-log schema (missing columns null), or None if it won't cast."""
    columns = []
    for field in EXCHANGES_SCHEMA:
        if field.name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, field.type))
            continue
        column = table[field.name]
        if pa.types.is_timestamp(column.type) and column.type.tz is None:
            return None  # naive times: let the row validator say so, row by row
        if not _same_kind(column.type, field.type):
            return None  # Arrow would make True a status of 1: the validator says no
        try:
            columns.append(column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return None
    return pa.Table.from_arrays(columns, schema=EXCHANGES_SCHEMA)


def _same_kind(given: pa.DataType, lake: pa.DataType) -> bool:
    """Whether a column may be cast as a whole: only widths and encodings change (int32 to
    int64, an int to a float, dictionary or large strings to strings), never the kind of
    value. Arrow casts booleans to numbers, numbers to text and text to numbers, which the
    row validator, and every JSON line, refuses. Numbers of any kind may become numbers."""
    if pa.types.is_dictionary(given):
        given = given.value_type
    if pa.types.is_null(given) or pa.types.is_nested(lake):
        return True  # all null; or messages, whose cast checks their fields' own types
    numbers = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
    kinds = (
        # pandas writes an integer column with a missing value as float64, Spark a count as
        # decimal: the cast (safe) keeps whole numbers and refuses a fraction, which the
        # rows then meet one by one
        (pa.types.is_integer, numbers),
        (pa.types.is_floating, numbers),
        (pa.types.is_boolean, (pa.types.is_boolean,)),
        (pa.types.is_timestamp, (pa.types.is_timestamp,)),
        (_is_text, (_is_text,)),
    )
    for is_lake_kind, accepted in kinds:
        if is_lake_kind(lake):
            return any(accept(given) for accept in accepted)
    return True


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _bad_messages(messages: pa.ChunkedArray, rows: int) -> np.ndarray:
    bad = np.zeros(rows, dtype=bool)
    array = messages.combine_chunks()
    bad |= ~np.asarray(pc.fill_null(pc.greater(pc.list_value_length(array), 0), False))
    flat = pc.list_flatten(array)
    owner = np.asarray(pc.list_parent_indices(array))
    role_ok = np.asarray(
        pc.fill_null(
            pc.is_in(pc.struct_field(flat, "role"), pa.array(sorted(MESSAGE_ROLES))), False
        )
    )
    bad[owner[~role_ok]] = True
    blocks = pc.list_flatten(pc.struct_field(flat, "content"))
    block_owner = owner[np.asarray(pc.list_parent_indices(pc.struct_field(flat, "content")))]
    kind_ok = np.asarray(
        pc.fill_null(
            pc.is_in(pc.struct_field(blocks, "type"), pa.array(sorted(BLOCK_TYPES))), False
        )
    )
    bad[block_owner[~kind_ok]] = True
    return bad


def conform_exchanges(table: pa.Table) -> tuple[pa.Table, np.ndarray] | None:
    """(table in the exchange-log schema, mask of rows that break a rule), or None."""
    cast = cast_to_exchange_schema(table)
    if cast is None:
        return None
    bad = np.zeros(cast.num_rows, dtype=bool)
    for field in EXCHANGE_FIELDS:
        if field.required:
            bad |= np.asarray(pc.is_null(cast[field.name]))
    for name in NON_EMPTY_FIELDS:
        bad |= np.asarray(pc.fill_null(pc.equal(cast[name], ""), False))
    for name in NON_NEGATIVE_FIELDS:
        bad |= np.asarray(pc.fill_null(pc.less(cast[name], 0), False))
    bad |= _bad_messages(cast["messages"], cast.num_rows)
    return cast, bad
