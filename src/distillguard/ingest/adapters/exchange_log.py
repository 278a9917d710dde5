"""The native shape: rows already in exchange-log v1 pass through unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from distillguard.ingest.adapters.base import Adapter
from distillguard.schema.validate import Row

_KEYS = ("request_id", "account_id", "messages")


class ExchangeLogAdapter(Adapter):
    name = "exchange-log"
    description = "exchange-log v1 rows (distillguard's native format)"

    def matches(self, record: Any) -> bool:
        return isinstance(record, dict) and all(k in record for k in _KEYS)

    def convert(self, record: Any) -> Iterator[Row]:
        yield record
