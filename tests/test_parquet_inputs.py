"""Parquet as pandas, Spark and other writers make it: times in other units or as INT96,
and columns of another kind than the lake's, read as a JSON line of the same values is."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distillguard.ingest import Lake, ingest
from tests.conftest import query
from tests.samples import exchange_row

WHEN_NS = int(datetime(2026, 2, 10, 13, 5, 12, tzinfo=UTC).timestamp()) * 10**9 + 345_678_912


def _rows(n: int = 3) -> list[dict[str, Any]]:
    return [exchange_row(i, messages=[{"role": "user", "content": f"q{i}"}]) for i in range(n)]


def _with_times(kind: pa.DataType) -> pa.Table:
    table = pa.Table.from_pylist(_rows())
    stamps = pa.array([WHEN_NS] * table.num_rows, pa.timestamp("ns", tz="UTC"))
    stamps = stamps.cast(pa.timestamp(kind.unit, tz="UTC"), safe=False)
    return table.set_column(table.schema.get_field_index("ts"), "ts", stamps.cast(kind))


def _stored_times(lake: Path) -> list[datetime]:
    sql = f"SELECT ts FROM {Lake(lake).exchanges_sql()} ORDER BY request_id"
    return [row[0].astimezone(UTC) for row in query(sql)]


KEPT = datetime(2026, 2, 10, 13, 5, 12, 345000, tzinfo=UTC)  # cut to the lake's milliseconds

# (case, the ts column's type, written as INT96): every row was quarantined before,
# "Expected `datetime`, got `Timestamp`", for nanoseconds, microseconds and INT96 alike
TIMES = [
    ("pandas: nanoseconds, UTC", pa.timestamp("ns", tz="UTC"), False),
    ("Spark: microseconds, UTC", pa.timestamp("us", tz="UTC"), False),
    ("another zone", pa.timestamp("us", tz="Asia/Kolkata"), False),
    ("Spark and Hive: INT96", pa.timestamp("ns"), True),
]


@pytest.mark.parametrize(("case", "kind", "int96"), TIMES, ids=[t[0] for t in TIMES])
def test_times_in_other_units_are_kept_to_the_millisecond(
    tmp_path: Path, case: str, kind: pa.DataType, int96: bool
) -> None:
    path = tmp_path / "in.parquet"
    pq.write_table(_with_times(kind), path, use_deprecated_int96_timestamps=int96)
    summary = ingest([path], tmp_path / "lake")
    assert (summary.kept, summary.quarantined) == (3, 0), case
    assert _stored_times(tmp_path / "lake") == [KEPT] * 3, case


def test_a_time_without_a_zone_is_refused_by_name(tmp_path: Path) -> None:
    """Not INT96, no zone: the wall clock of somewhere unsaid, as a JSON time without Z."""
    path = tmp_path / "naive.parquet"
    pq.write_table(_with_times(pa.timestamp("us")), path)
    summary = ingest([path], tmp_path / "lake")
    assert (summary.kept, summary.quarantined) == (0, 3)
    reasons = [r["reason"] for r in _quarantined(tmp_path / "lake")]
    assert all("time zone" in r or "timezone" in r for r in reasons), reasons


def test_a_time_python_cannot_hold_is_quarantined_not_a_crash(tmp_path: Path) -> None:
    """Year 20000 in a Parquet file was an OverflowError that stopped the ingest."""
    table = _with_times(pa.timestamp("ms", tz="UTC"))
    far = pa.array([WHEN_NS // 10**6, 10**16, WHEN_NS // 10**6], pa.int64())
    table = table.set_column(
        table.schema.get_field_index("ts"), "ts", far.cast(pa.timestamp("ms", tz="UTC"))
    )
    pq.write_table(table, tmp_path / "far.parquet")
    summary = ingest([tmp_path / "far.parquet"], tmp_path / "lake")
    assert (summary.kept, summary.quarantined) == (2, 1)
    assert "ts" in _quarantined(tmp_path / "lake")[0]["reason"]


# (case, a column and its values): Arrow cast each whole column, so True was kept as
# status 1 and "0.7" as a temperature, where the same values in JSON lines are refused
OTHER_KINDS = [
    ("status as booleans", "status", pa.array([True, False, True])),
    ("account ids as numbers", "account_id", pa.array([1, 2, 3])),
    ("temperature as text", "temperature", pa.array(["0.7", "1", "0.2"])),
    ("tokens with a fraction", "input_tokens", pa.array([3.5, 4.0, 5.0])),
]


@pytest.mark.parametrize(("case", "name", "values"), OTHER_KINDS, ids=[k[0] for k in OTHER_KINDS])
def test_a_column_of_another_kind_is_refused_as_in_json(
    tmp_path: Path, case: str, name: str, values: pa.Array
) -> None:
    table = pa.Table.from_pylist(_rows())
    table = table.set_column(table.schema.get_field_index(name), name, values)
    pq.write_table(table, tmp_path / "in.parquet")
    summary = ingest([tmp_path / "in.parquet"], tmp_path / "lake")
    assert (summary.kept, summary.quarantined) == (0, 3), case
    assert all(name in r["reason"] for r in _quarantined(tmp_path / "lake")), case


# (case, latency_ms as written): pandas writes an int column with a missing value as
# float64, Spark a count as decimal; both were kept before the kinds were checked
WHOLE_NUMBERS = [
    ("pandas: floats and a null", pa.array([12.0, None, 30.0])),
    ("Spark: decimals", pa.array([12, 20, 30], pa.decimal128(10, 0))),
]


@pytest.mark.parametrize(("case", "values"), WHOLE_NUMBERS, ids=[w[0] for w in WHOLE_NUMBERS])
def test_whole_numbers_of_another_type_are_kept(
    tmp_path: Path, case: str, values: pa.Array
) -> None:
    table = pa.Table.from_pylist(_rows())
    table = table.set_column(table.schema.get_field_index("latency_ms"), "latency_ms", values)
    pq.write_table(table, tmp_path / "in.parquet")
    summary = ingest([tmp_path / "in.parquet"], tmp_path / "lake")
    assert (summary.kept, summary.quarantined) == (3, 0), case
    sql = f"SELECT latency_ms FROM {Lake(tmp_path / 'lake').exchanges_sql()} ORDER BY request_id"
    assert (
        [r[0] for r in query(sql)] == values.to_pylist()
        if case.startswith("pandas")
        else [
            12,
            20,
            30,
        ]
    )


def test_widths_and_encodings_still_take_the_fast_path(tmp_path: Path) -> None:
    """int32 counts, a whole-number temperature, dictionary-encoded text: the same values."""
    table = pa.Table.from_pylist(_rows())
    changed = {
        "input_tokens": table.column("input_tokens").cast(pa.int32()),
        "temperature": pa.array([1, 0, 2], pa.int64()),
        "model": table.column("model").dictionary_encode(),
    }
    for name, values in changed.items():
        table = table.set_column(table.schema.get_field_index(name), name, values)
    pq.write_table(table, tmp_path / "in.parquet")
    summary = ingest([tmp_path / "in.parquet"], tmp_path / "lake")
    assert (summary.kept, summary.quarantined) == (3, 0)
    sql = f"SELECT temperature FROM {Lake(tmp_path / 'lake').exchanges_sql()} ORDER BY request_id"
    assert [r[0] for r in query(sql)] == [1.0, 0.0, 2.0]


def _quarantined(lake: Path) -> list[dict[str, Any]]:
    lines = (lake / "quarantine.jsonl").read_bytes().splitlines()
    return [orjson.loads(line) for line in lines]
