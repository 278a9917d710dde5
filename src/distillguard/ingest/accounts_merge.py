"""The lake's accounts table, upserted: field by field, the latest value given wins.

An accounts file is often a feed of changes: a full row at sign-up, then a line naming
only what changed (`{"account_id": "a1", "tier": "enterprise"}`). The last row used to
replace the whole row, so that line wiped the account's sign-up time, card fingerprint and
sign-up address, the evidence linking reads. A field a later row leaves out (or null)
keeps its value; a field it gives replaces it.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.faults import crash_point
from distillguard.ingest.lake import Lake
from distillguard.schema import ACCOUNT_FIELDS, ACCOUNTS_SCHEMA
from distillguard.schema.columnar import rows_to_table
from distillguard.store.atomic import written_aside
from distillguard.store.duck import connect_utc


def merge_accounts(lake: Lake, rows: list[Any]) -> int:
    """Upsert validated account rows; returns the table's size."""
    new = rows_to_table(rows, ACCOUNT_FIELDS, ACCOUNTS_SCHEMA)
    if lake.accounts_path.exists():
        new = pa.concat_tables([pq.read_table(lake.accounts_path, schema=ACCOUNTS_SCHEMA), new])
    merged = latest_values(new)
    with written_aside(lake.accounts_path) as partial:
        pq.write_table(merged, partial, compression="zstd")
        crash_point("accounts.written")
    return int(merged.num_rows)


def latest_values(table: pa.Table) -> pa.Table:
    """One row per account: each field's last non-null value in the table's order; the
    accounts in the order they were last given."""
    ordered = table.append_column("given_at", pa.array(range(table.num_rows), pa.int64()))
    fields = [name for name in ACCOUNTS_SCHEMA.names if name != "account_id"]
    latest = ", ".join(
        f"arg_max({name}, given_at) FILTER (WHERE {name} IS NOT NULL) AS {name}" for name in fields
    )
    with connect_utc() as con:
        con.register("given", ordered)
        sql = f"SELECT account_id, {latest} FROM given GROUP BY account_id ORDER BY max(given_at)"
        merged: pa.Table = con.sql(sql).to_arrow_table()
    return merged.cast(ACCOUNTS_SCHEMA)
