"""An accounts table read into the lake: rows validated, bad ones quarantined."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from distillguard.errors import UserError
from distillguard.ingest.accounts_merge import merge_accounts
from distillguard.ingest.lake import Lake
from distillguard.ingest.outcome import FILE_ERRORS, cannot_read
from distillguard.ingest.quarantine import Quarantine, bad_row
from distillguard.ingest.sources import iter_records
from distillguard.schema.validate import RowError, validate_account

AN_EXCHANGE = "an exchange, not an account row (an exchange log given as --accounts?)"


def _is_exchange(value: Any) -> bool:
    """A request id and a list of messages: what an exchange has and an account row never
    does (a null column, or a count named messages, is not enough)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("request_id"), str)
        and isinstance(value.get("messages"), list)
    )


def _read_accounts(path: Path, q: Quarantine, rows: list[Any]) -> int:
    """Validate one accounts file into `rows`, bad rows to `q`; returns the rows read."""
    read = 0
    for record in iter_records(path):
        read += 1
        try:
            if record.error is not None:
                raise RowError(record.error)
            if _is_exchange(record.value):
                raise RowError(AN_EXCHANGE)  # else its blank sign-up fields would win
            rows.append(validate_account(record.value))
        except RowError as exc:
            q.add(bad_row(record, str(exc)))
    return read


def ingest_accounts(paths: list[Path], lake: Lake, unreadable: list[str]) -> tuple[int, int]:
    """Account files into the lake's accounts table; (rows read, rows quarantined)."""
    q = Quarantine(lake.quarantine_path, table="accounts")
    rows: list[Any] = []
    read = 0
    try:
        for path in paths:  # files: pipeline expanded --accounts (inputs.account_files)
            try:
                read += _read_accounts(path, q, rows)
            except (UserError, *FILE_ERRORS) as exc:
                unreadable.append(cannot_read(path, exc))
    finally:
        q.close()
    if rows:
        merge_accounts(lake, rows)
    return read, q.count
