"""Accounts-table facts that a log declares about its accounts (LiteLLM's key organisation
or team), added to the lake's accounts table.

They only fill fields that are empty: an accounts file the user gives is the better
source, so its values are never overwritten (and it is merged after, so it wins).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow.parquet as pq

from distillguard.ingest.accounts_merge import merge_accounts
from distillguard.ingest.lake import Lake
from distillguard.schema import ACCOUNTS_SCHEMA
from distillguard.schema.validate import Row, RowError, validate_account


def _existing(lake: Lake, ids: set[str]) -> dict[str, Row]:
    if not lake.accounts_path.exists():
        return {}
    table = pq.read_table(lake.accounts_path, schema=ACCOUNTS_SCHEMA)
    return {row["account_id"]: row for row in table.to_pylist() if row["account_id"] in ids}


def _filled(current: Row, declared: Mapping[str, Any]) -> Row | None:
    """The current row with its empty fields filled, or None when nothing changes."""
    gaps = {k: v for k, v in declared.items() if v is not None and current.get(k) is None}
    return {**current, **gaps} if gaps else None


def merge_declared_accounts(lake: Lake, declared: Mapping[str, Row]) -> int:
    """Fill the accounts table from declared rows; returns how many rows changed."""
    existing = _existing(lake, set(declared))
    rows: list[Any] = []
    for account_id, row in declared.items():
        filled = _filled(existing.get(account_id, {"account_id": account_id}), row)
        if filled is None:
            continue
        try:
            rows.append(validate_account(filled))
        except RowError:
            continue  # a declared value of the wrong type is not worth a quarantine entry
    if rows:
        merge_accounts(lake, rows)
    return len(rows)
