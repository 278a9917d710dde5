"""Parquet in the lake's schema takes the Arrow path; it must keep and drop exactly the rows
the row-by-row validator would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.ingest import ingest
from distillguard.schema import EXCHANGE_FIELDS, EXCHANGES_SCHEMA, RowError, validate_exchange
from distillguard.schema.columnar import rows_to_table
from distillguard.schema.conform import conform_exchanges
from tests.samples import exchange_row


def _lake_shaped(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as the lake stores them: string content already turned into text blocks."""
    good = [validate_exchange(r) for r in rows]
    return rows_to_table(good, EXCHANGE_FIELDS, EXCHANGES_SCHEMA)


def test_clean_table_passes_unchanged() -> None:
    table = _lake_shaped([exchange_row(i) for i in range(30)])
    conformed = conform_exchanges(table)
    assert conformed is not None
    out, bad = conformed
    assert out.equals(table) and not bad.any()


def test_rule_breaking_rows_are_found_by_position(tmp_path: Path) -> None:
    rows = _lake_shaped([exchange_row(i) for i in range(10)]).to_pylist()
    rows[2]["account_id"] = ""
    rows[4]["request_id"] = None
    rows[6]["messages"] = []
    rows[8]["messages"][0]["role"] = "robot"
    rows[9]["output_tokens"] = -3
    table = pa.Table.from_pylist(rows, schema=EXCHANGES_SCHEMA)
    conformed = conform_exchanges(table)
    assert conformed is not None
    _, bad = conformed
    assert bad.nonzero()[0].tolist() == [2, 4, 6, 8, 9]
    for i, row in enumerate(rows):
        try:
            validate_exchange(row)
            kept = True
        except RowError:
            kept = False
        assert kept == (not bad[i])
    path = tmp_path / "in.parquet"
    pq.write_table(table, path)
    summary = ingest([path], tmp_path / "lake")
    assert (summary.kept, summary.quarantined) == (5, 5)
    reasons = [
        orjson.loads(x)["reason"]
        for x in (tmp_path / "lake/quarantine.jsonl").read_bytes().splitlines()
    ]
    assert "account_id" in reasons[0] and "request_id" in reasons[1] and "messages" in reasons[2]


def test_uncastable_columns_fall_back_to_rows(tmp_path: Path) -> None:
    rows = [exchange_row(i, messages=[{"role": "user", "content": f"q{i}"}]) for i in range(5)]
    table = pa.Table.from_pylist(rows)  # ts as text, content as plain strings
    assert conform_exchanges(table) is None
    path = tmp_path / "plain.parquet"
    pq.write_table(table, path)
    assert ingest([path], tmp_path / "lake").kept == 5


def test_missing_optional_columns_become_null() -> None:
    table = _lake_shaped([exchange_row(1)]).select(
        ["request_id", "ts", "account_id", "model", "messages"]
    )
    conformed = conform_exchanges(table)
    assert conformed is not None
    out, bad = conformed
    assert out.schema == EXCHANGES_SCHEMA and out["asn"].null_count == 1 and not bad.any()
