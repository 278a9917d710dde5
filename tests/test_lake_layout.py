"""The lake's Hive layout reads in pyarrow as well as DuckDB: the day lives only in the path."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from distillguard.ingest import Lake, ingest
from distillguard.ingest.layout import PARTITION_COLUMN
from distillguard.ingest.summary import summarize_lake
from tests.conftest import query, write_jsonl
from tests.samples import exchange_row


def _lake_with_redeliveries(tmp_path: Path) -> Lake:
    """Nine exchanges over three days, two of them delivered twice: the files holding the
    re-deliveries are the ones the merge rewrites."""
    rows = [exchange_row(i) for i in range(9)] + [exchange_row(0), exchange_row(5)]
    ingest([write_jsonl(tmp_path / "a.jsonl", rows)], tmp_path / "lake")
    return Lake(tmp_path / "lake")


def _columns(lake: Lake) -> list[list[str]]:
    return [pq.read_schema(path).names for path in lake.exchange_files()]


def test_part_files_do_not_repeat_the_partition_column(tmp_path: Path) -> None:
    lake = _lake_with_redeliveries(tmp_path)
    assert len(lake.exchange_files()) == 3
    assert all(PARTITION_COLUMN not in names for names in _columns(lake))


def test_pyarrow_reads_the_lake_with_hive_partitioning(tmp_path: Path) -> None:
    lake = _lake_with_redeliveries(tmp_path)
    table = ds.dataset(lake.exchanges_dir, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 9
    days = pc.strftime(table["ts"], format="%Y-%m-%d")
    assert table[PARTITION_COLUMN].cast(pa.string()).to_pylist() == days.to_pylist()


def test_duckdb_reads_the_day_from_the_path(tmp_path: Path) -> None:
    lake = _lake_with_redeliveries(tmp_path)
    sql = f"SELECT date::VARCHAR, count(*) FROM {lake.exchanges_sql()} GROUP BY 1 ORDER BY 1"
    rows = query(sql)
    assert rows == [("2026-02-10", 3), ("2026-02-11", 3), ("2026-02-12", 3)]
    assert summarize_lake(lake).days == 3


def _old_layout(lake: Lake) -> None:
    """What earlier versions left: the partition column inside a part file, as a DATE."""
    path = lake.exchange_files()[0]
    table = pq.read_table(path, partitioning=None)
    day = path.parent.name.removeprefix("date=")
    dates = pa.array([day] * table.num_rows).cast(pa.date32())
    pq.write_table(table.append_column(PARTITION_COLUMN, dates), path)


def test_ingest_migrates_a_lake_in_the_old_layout(tmp_path: Path) -> None:
    lake = _lake_with_redeliveries(tmp_path)
    _old_layout(lake)
    assert any(PARTITION_COLUMN in names for names in _columns(lake))
    ingest([write_jsonl(tmp_path / "b.jsonl", [exchange_row(20)])], lake.root)
    assert all(PARTITION_COLUMN not in names for names in _columns(lake))
    table = ds.dataset(lake.exchanges_dir, format="parquet", partitioning="hive").to_table()
    assert sorted(table["request_id"].to_pylist()) == sorted(
        exchange_row(i)["request_id"] for i in [*range(9), 20]
    )
