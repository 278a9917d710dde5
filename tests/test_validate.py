"""Table-driven: which exchange rows are kept, and why the others are quarantined."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from distillguard.schema import RowError, decode_exchange, validate_account, validate_exchange
from tests.samples import exchange_row

BAD_ROWS: list[tuple[str, dict[str, Any], str]] = [
    ("missing request_id", exchange_row(request_id=None), "request_id"),
    ("empty account", exchange_row(account_id=""), "account_id"),
    ("missing model", {k: v for k, v in exchange_row().items() if k != "model"}, "model"),
    ("int as string", exchange_row(asn="64500"), "asn"),
    ("bool as int", exchange_row(max_tokens=True), "max_tokens"),
    ("bad timestamp", exchange_row(ts="yesterday"), "ts"),
    ("naive timestamp", exchange_row(ts="2026-02-10T13:45:12"), "time zone"),
    ("empty messages", exchange_row(messages=[]), "messages"),
    ("unknown role", exchange_row(messages=[{"role": "robot", "content": "x"}]), "role"),
    ("bad block", exchange_row(messages=[{"role": "user", "content": [{"type": "x"}]}]), "type"),
    ("content number", exchange_row(messages=[{"role": "user", "content": 5}]), "content"),
    ("tools not strings", exchange_row(tools=[1, 2]), "tools"),
    ("temperature text", exchange_row(temperature="hot"), "temperature"),
    ("negative output tokens", exchange_row(output_tokens=-5), "output_tokens"),
    ("negative latency", exchange_row(latency_ms=-1), "latency_ms"),
]


@pytest.mark.parametrize(("case", "row", "reason"), BAD_ROWS, ids=[c for c, _, _ in BAD_ROWS])
def test_bad_rows_are_rejected_with_a_reason(case: str, row: dict[str, Any], reason: str) -> None:
    with pytest.raises(RowError, match=reason):
        validate_exchange(row)
    with pytest.raises(RowError, match=reason):
        decode_exchange(orjson.dumps(row))


GOOD_ROWS: list[tuple[str, dict[str, Any]]] = [
    ("full row", exchange_row()),
    (
        "only required",
        {k: exchange_row()[k] for k in ("request_id", "ts", "account_id", "model", "messages")},
    ),
    ("offset timestamp", exchange_row(ts="2026-02-10T15:45:12+02:00")),
    ("int temperature", exchange_row(temperature=1)),
    (
        "image block",
        exchange_row(
            messages=[{"role": "user", "content": [{"type": "image", "media_type": "image/png"}]}]
        ),
    ),
    ("unknown extra key", exchange_row(extra_field="ignored")),
    ("null content", exchange_row(messages=[{"role": "user", "content": None}])),
    ("dynamic thinking budget", exchange_row(thinking_budget=-1)),  # some APIs send -1
]


@pytest.mark.parametrize(("case", "row"), GOOD_ROWS, ids=[c for c, _ in GOOD_ROWS])
def test_good_rows_are_kept(case: str, row: dict[str, Any]) -> None:
    kept = validate_exchange(row)
    assert kept == decode_exchange(orjson.dumps(row))
    assert kept.ts.tzinfo is not None


def test_timestamps_are_converted_to_utc() -> None:
    kept = validate_exchange(exchange_row(ts="2026-02-10T15:45:12+02:00"))
    assert kept.ts == datetime(2026, 2, 10, 13, 45, 12, tzinfo=UTC)


def test_not_an_object() -> None:
    with pytest.raises(RowError, match="not an object"):
        validate_exchange([1, 2])
    with pytest.raises(RowError, match="invalid JSON"):
        decode_exchange(b"{not json")


def test_accounts_validate() -> None:
    row = {"account_id": "a", "created_at": "2026-01-01T00:00:00Z", "verified": True}
    assert validate_account(row).verified is True
    with pytest.raises(RowError, match="verified"):
        validate_account({"account_id": "a", "verified": "yes"})
