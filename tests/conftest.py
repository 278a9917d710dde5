from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import orjson


def write_jsonl(path: Path, rows: Iterable[Any]) -> Path:
    """Rows as JSON lines (gzip when the name ends in .gz); bytes rows are written as they are."""
    data = b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in rows)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def query(sql: str) -> list[tuple[Any, ...]]:
    """Rows of a DuckDB query, on a fresh in-memory connection."""
    with duckdb.connect() as con:
        return con.execute(sql).fetchall()
