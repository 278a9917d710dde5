"""Property tests: whatever bytes, JSON or field values come in, ingest never raises, and
every row it reads is kept, quarantined or dropped as a duplicate: nothing else.

Deterministic (derandomize) and sized for CI: a few dozen examples per property.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from distillguard.ingest import ingest
from distillguard.schema import EXCHANGE_FIELDS
from tests.reliability.helpers import lake_ids, quarantine_entries
from tests.samples import exchange_row

FUZZ = settings(
    max_examples=20,
    derandomize=True,
    database=None,  # derandomized: nothing to remember between runs
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Values that could reach a column: the right types at their edges, and every wrong type.
ODD_VALUES = st.one_of(
    JSON,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.sampled_from(["", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-02-10T13:00:00"]),
    st.sampled_from([2**63, -(2**63) - 1, 1e308, -0.0, "\u0000", "\ud7ff\ue000"]),
)

# Number and time fields get more edits: that is where values overflow or go implausible.
FIELDS = [f.name for f in EXCHANGE_FIELDS] + [f.name for f in EXCHANGE_FIELDS if f.kind != "string"]
EDIT = st.tuples(st.sampled_from(FIELDS), ODD_VALUES)


def _check(lines: list[bytes], suffix: str = ".jsonl") -> None:
    """Ingest the lines into a fresh lake and check the accounting."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"in{suffix}"
        source.write_bytes(b"".join(line + b"\n" for line in lines))
        summary = ingest([source], Path(tmp) / "lake", workers=1)
        assert summary.read == summary.kept + summary.quarantined + summary.duplicates
        assert summary.read == sum(1 for line in lines if line.strip())
        assert len(lake_ids(Path(tmp) / "lake")) == summary.kept
        assert len(quarantine_entries(Path(tmp) / "lake")) == summary.quarantined


@st.composite
def spliced(draw: st.DrawFn) -> bytes:
    """A valid row with random bytes spliced in somewhere (often inside a string)."""
    line = orjson.dumps(exchange_row(draw(st.integers(0, 50))))
    at = draw(st.integers(0, len(line)))
    cut = draw(st.integers(0, 3))
    noise = draw(st.binary(min_size=1, max_size=6)).replace(b"\n", b"")
    return line[:at] + noise + line[at + cut :]


@FUZZ
@given(st.lists(st.binary(max_size=200).map(lambda b: b.replace(b"\n", b"")), max_size=4))
def test_random_bytes(lines: list[bytes]) -> None:
    _check([orjson.dumps(exchange_row(0)), *lines, orjson.dumps(exchange_row(1))])


@FUZZ
@given(st.lists(spliced(), min_size=1, max_size=6))
def test_random_bytes_inside_rows(lines: list[bytes]) -> None:
    _check(lines)


@FUZZ
@given(st.lists(JSON, max_size=8))
def test_random_json(values: list[Any]) -> None:
    _check([_dumps(v) for v in values] + [orjson.dumps(exchange_row(2))])


@settings(FUZZ, max_examples=40)
@given(
    st.lists(EDIT, min_size=1, max_size=6),
    st.integers(min_value=0, max_value=5),
)
@example([("asn", 2**70), ("output_tokens", -(2**63) - 1)], 0)  # issue 20's OverflowError
@example([("ts", "9999-01-01T00:00:00Z"), ("ts", "1960-01-01T00:00:00Z")], 0)
def test_random_field_values(edits: list[tuple[str, Any]], index: int) -> None:
    rows = []
    for n, (name, value) in enumerate(edits):
        row = exchange_row(index + n % 2)  # some request ids repeat: duplicates count too
        row[name] = value
        rows.append(row)
    _check([_dumps(row) for row in rows])


@FUZZ
@given(
    st.lists(st.tuples(st.sampled_from([f.name for f in EXCHANGE_FIELDS]), ODD_VALUES), max_size=4)
)
def test_random_field_values_from_parquet(edits: list[tuple[str, Any]]) -> None:
    """Parquet input goes another way (Arrow, not msgspec): the same accounting holds."""
    rows = [exchange_row(i) for i in range(3)]
    for n, (name, value) in enumerate(edits):
        rows[n % 3][name] = value
    try:
        table = pa.Table.from_pylist(rows)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return  # not a table pyarrow can write: no such Parquet file exists
    with tempfile.TemporaryDirectory() as tmp:
        pq.write_table(table, Path(tmp) / "in.parquet")
        summary = ingest([Path(tmp) / "in.parquet"], Path(tmp) / "lake", workers=1)
        assert summary.read == 3 == summary.kept + summary.quarantined + summary.duplicates
        assert len(lake_ids(Path(tmp) / "lake")) == summary.kept


def _dumps(value: Any) -> bytes:
    """JSON text of any value, integers beyond 64 bits included (orjson refuses those)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False).encode("utf-8", errors="surrogatepass")
