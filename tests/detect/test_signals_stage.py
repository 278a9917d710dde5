"""The signals stage: workers reading lake files give what one process gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distillguard.detect.signals_stage import signals_sql, signals_to_parquet
from distillguard.errors import UserError
from distillguard.ingest.lake import Lake


def _rows(directory: Path) -> pa.Table:
    query = f"SELECT * FROM {signals_sql(directory)} ORDER BY request_id"
    relation = duckdb.connect().sql(query)
    assert relation is not None
    return relation.to_arrow_table()


def test_two_workers_equal_one_process(tiny_lake: Path, tmp_path: Path) -> None:
    lake = Lake(tiny_lake)
    assert len(lake.exchange_files()) >= 2
    one = signals_to_parquet(lake, tmp_path / "one", workers=1)
    two = signals_to_parquet(lake, tmp_path / "two", workers=2)
    assert one == two > 0
    assert _rows(tmp_path / "one").equals(_rows(tmp_path / "two"))


def test_progress_counts_every_exchange(tiny_lake: Path, tmp_path: Path) -> None:
    seen: list[int] = []
    total = signals_to_parquet(Lake(tiny_lake), tmp_path / "out", seen.append, workers=1)
    assert sum(seen) == total


def test_an_empty_lake_gives_an_empty_dataset_with_columns(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    lake.exchanges_dir.mkdir(parents=True)
    assert signals_to_parquet(lake, tmp_path / "out") == 0
    table = _rows(tmp_path / "out")
    assert table.num_rows == 0
    assert "capability" in table.column_names


def test_a_file_that_is_not_exchanges_is_named(tiny_lake: Path, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    shutil.copytree(tiny_lake, lake.root)
    bad = lake.exchanges_dir / "date=2026-01-01" / "part-bad.parquet"
    bad.parent.mkdir()
    pq.write_table(pa.table({"messages": ["not a list of messages"]}), bad)
    with pytest.raises(UserError, match=r"part-bad\.parquet"):
        signals_to_parquet(lake, tmp_path / "out", workers=1)
