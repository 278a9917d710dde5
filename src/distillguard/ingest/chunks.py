"""One chunk of input rows → staged exchanges and bad rows. Runs in worker processes.

Native exchange-log JSONL is decoded and validated in one msgspec pass straight from the
bytes; other shapes are parsed, adapted record by record, then validated. Either way each
row is checked on its own, so one bad row is quarantined and its neighbours are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from distillguard.ingest.adapters import FieldMapping, get_adapter
from distillguard.ingest.adapters.exchange_log import ExchangeLogAdapter
from distillguard.ingest.adapters.otel_genai import OtelGenAIAdapter
from distillguard.ingest.lake import write_staged
from distillguard.ingest.otel_join import read_content
from distillguard.ingest.quarantine import BadRow, bad_row
from distillguard.ingest.sources import Chunk, RawRecord
from distillguard.schema import EXCHANGE_FIELDS, EXCHANGES_SCHEMA
from distillguard.schema.columnar import rows_to_table
from distillguard.schema.conform import conform_exchanges
from distillguard.schema.validate import RowError, decode_exchange, validate_exchange


@dataclass(frozen=True)
class ChunkTask:
    index: int
    chunk: Chunk
    format: str
    mapping: FieldMapping | None
    staging_dir: Path
    otel_content: Path | None = None  # message content from OTel logs files (otel_join)


@dataclass(frozen=True)
class ChunkResult:
    """What a chunk gave; bad rows' line numbers count from the chunk's first line."""

    index: int
    lines: int
    read: int
    staged: int
    bad: list[BadRow] = field(default_factory=list)
    accounts: list[Any] = field(default_factory=list)  # rows adapters read off the log


@dataclass
class _Collected:
    rows: list[Any] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    read: int = 0
    lines: int = 0
    accounts: dict[str, Any] = field(default_factory=dict)


def _decode_native(chunk: Chunk) -> _Collected:
    out = _Collected()
    source = chunk.source
    lines = chunk.raw_lines()
    out.lines = len(lines)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        out.read += 1
        try:
            out.rows.append(decode_exchange(line))
        except RowError as exc:
            raw = line.rstrip(b"\r").decode("utf-8", errors="replace")
            out.bad.append(BadRow(source, number, raw, str(exc)))
    return out


def _adapt(task: ChunkTask) -> _Collected:
    out = _Collected()
    adapter = get_adapter(task.format, task.mapping)
    if task.otel_content is not None and isinstance(adapter, OtelGenAIAdapter):
        adapter = adapter.joined(read_content(task.otel_content))
    records, out.lines = task.chunk.load()
    for record in records:
        try:
            if record.error is not None:
                raise RowError(record.error)
            produced = list(adapter.convert(record.value))
        except RowError as exc:
            out.read += 1
            out.bad.append(bad_row(record, str(exc)))
            continue
        out.read += len(produced)
        declared = adapter.account(record.value)
        if declared is not None:
            out.accounts[str(declared["account_id"])] = declared
        for row in produced:
            try:
                out.rows.append(validate_exchange(row))
            except RowError as exc:
                out.bad.append(bad_row(record, str(exc)))
    return out


def _native_parquet(chunk: Chunk) -> tuple[pa.Table, _Collected] | None:
    """Parquet in the lake's schema: validated in Arrow, only bad rows looked at one by one."""
    table = chunk.read_table()
    conformed = conform_exchanges(table)
    if conformed is None:
        return None
    good, bad_mask = conformed
    out = _Collected(read=table.num_rows, lines=table.num_rows)
    for position in np.flatnonzero(bad_mask).tolist():
        record = RawRecord(chunk.source, position + 1, table.slice(position, 1).to_pylist()[0])
        try:
            validate_exchange(record.value)
            reason = "row breaks an exchange-log rule"
        except RowError as exc:
            reason = str(exc)
        out.bad.append(bad_row(record, reason))
    return good.filter(pa.array(~bad_mask)), out


def process_chunk(task: ChunkTask) -> ChunkResult:
    """Validate and stage one chunk; bad rows come back for the quarantine."""
    native = task.format == ExchangeLogAdapter.name
    fast = _native_parquet(task.chunk) if native and not task.chunk.is_jsonl else None
    if fast is not None:
        table, out = fast
    else:
        out = _decode_native(task.chunk) if native and task.chunk.is_jsonl else _adapt(task)
        table = rows_to_table(out.rows, EXCHANGE_FIELDS, EXCHANGES_SCHEMA)
    if table.num_rows:
        write_staged(task.staging_dir, task.index, table)
    accounts = list(out.accounts.values())
    return ChunkResult(task.index, out.lines, out.read, table.num_rows, out.bad, accounts)
