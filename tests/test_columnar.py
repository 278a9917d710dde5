"""Validated rows become the same Arrow table whichever path they took."""

from __future__ import annotations

import orjson
import pyarrow as pa

from distillguard.schema import (
    EXCHANGE_FIELDS,
    EXCHANGES_SCHEMA,
    decode_exchange,
    validate_exchange,
)
from distillguard.schema.columnar import rows_to_table
from tests.samples import exchange_row


def test_columnar_table_equals_pyarrow_from_pylist() -> None:
    rows = [exchange_row(i) for i in range(50)]
    rows[3]["messages"] = [{"role": "user", "content": None}]
    rows[4]["messages"] = [
        {"role": "user", "content": [{"type": "image", "media_type": "image/png"}]}
    ]
    validated = [validate_exchange(r) for r in rows]
    table = rows_to_table(validated, EXCHANGE_FIELDS, EXCHANGES_SCHEMA)
    assert table.schema == EXCHANGES_SCHEMA
    assert table.num_rows == 50
    first = table.slice(0, 1).to_pylist()[0]
    assert first["messages"][0]["content"][0] == {
        "type": "text",
        "text": "Question number 0?",
        "name": None,
        "media_type": None,
    }
    assert table.slice(3, 1).to_pylist()[0]["messages"][0]["content"] == []
    image = table.slice(4, 1).to_pylist()[0]["messages"][0]["content"][0]
    assert image["media_type"] == "image/png"


def test_decoded_and_converted_rows_give_equal_tables() -> None:
    rows = [exchange_row(i) for i in range(20)]
    decoded = [decode_exchange(orjson.dumps(r)) for r in rows]
    converted = [validate_exchange(r) for r in rows]
    a = rows_to_table(decoded, EXCHANGE_FIELDS, EXCHANGES_SCHEMA)
    b = rows_to_table(converted, EXCHANGE_FIELDS, EXCHANGES_SCHEMA)
    assert a.equals(b)
    assert a.column("ts").type == pa.timestamp("ms", tz="UTC")
