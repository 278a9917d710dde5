"""One chunk of input rows → staged exchanges and bad rows. Runs in worker processes.

Native exchange-log JSONL is decoded and validated in one msgspec pass straight from the
bytes; other shapes are parsed, adapted record by record, then validated. Either way each
row is checked on its own, so one bad row is quarantined and its neighbours are kept: a row
that validates but cannot be stored (a value Arrow refuses) or whose time is implausible is
quarantined too, and a chunk that cannot be read at all becomes one quarantined entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from distillguard.ingest.adapters import Adapter, FieldMapping, detect_adapter, get_adapter
from distillguard.ingest.adapters.exchange_log import ExchangeLogAdapter
from distillguard.ingest.adapters.otel_genai import OtelGenAIAdapter
from distillguard.ingest.lake import write_staged
from distillguard.ingest.otel_join import read_content
from distillguard.ingest.plausible import TimeWindow
from distillguard.ingest.quarantine import BadRow, bad_row
from distillguard.ingest.sources import Chunk, RawRecord, raw_text, read_error
from distillguard.schema import EXCHANGE_FIELDS, EXCHANGES_SCHEMA
from distillguard.schema.columnar import rows_to_table
from distillguard.schema.conform import conform_exchanges
from distillguard.schema.validate import Row, RowError, decode_exchange, validate_exchange

# What Arrow raises for a value it cannot store in the lake's types.
_STORE_ERRORS = (pa.ArrowException, OverflowError, ValueError, TypeError, UnicodeError)
# What reading a chunk's bytes can raise, in a worker, for a file damaged after it was listed.
_READ_ERRORS = (OSError, EOFError, pa.ArrowException)


@dataclass(frozen=True)
class ChunkTask:
    index: int
    chunk: Chunk
    format: str
    mapping: FieldMapping | None
    staging_dir: Path
    window: TimeWindow
    otel_content: Path | None = None  # message content from OTel logs files (otel_join)
    forced: bool = False  # --format named the adapter: a record of another known shape is bad


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
    """Validated rows, each with its origin (a line or record position), and bad rows.
    `describe(origin, reason)` makes the quarantine entry of a row found bad later."""

    describe: Callable[[int, str], BadRow]
    rows: list[Any] = field(default_factory=list)
    origins: list[int] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    read: int = 0
    lines: int = 0
    accounts: dict[str, Any] = field(default_factory=dict)


def _decode_native(chunk: Chunk) -> _Collected:
    source = chunk.source
    lines = chunk.raw_lines()

    def describe(number: int, reason: str) -> BadRow:
        return BadRow(source, number, raw_text(lines[number - 1]), reason)

    out = _Collected(describe, lines=len(lines))
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        out.read += 1
        try:
            out.rows.append(decode_exchange(line))
            out.origins.append(number)
        except RowError as exc:
            out.bad.append(describe(number, str(exc)))
    return out


def _convert(adapter: Any, record: RawRecord) -> list[Any]:
    if record.error is not None:
        raise RowError(record.error)
    try:
        return list(adapter.rows(record.value))
    except RowError:
        raise
    except Exception as exc:  # a plugin's failure on one odd record stays with that record
        raise RowError(f"adapter {adapter.name} failed: {type(exc).__name__}: {exc}") from None


def _declared(adapter: Adapter, record: RawRecord) -> Row | None:
    """The account the record declares; an adapter's failure there is the row's, as in
    _convert, not the run's."""
    try:
        return adapter.account(record.value)
    except Exception as exc:  # any adapter failure is this row's
        raise RowError(f"adapter {adapter.name} failed: {type(exc).__name__}: {exc}") from None


def _adapter_for(adapter: Adapter, record: RawRecord, task: ChunkTask) -> Adapter:
    """The adapter for this record: the file's, or the one whose shape the record has when
    another's (a gateway that logs OpenAI and Anthropic calls to one file); read as the
    file's shape it was kept with its fields null (an Anthropic record as openai-chat: no
    system prompt, no output). With --format, such a record is refused."""
    if record.error is not None or adapter.matches(record.value):
        return adapter
    other = detect_adapter(record.value, task.mapping)
    if other is None:
        return adapter  # no known shape: the file's adapter says what is missing
    if task.forced:
        raise RowError(f"looks like {other.name}, not {adapter.name} (--format {adapter.name})")
    return other


def _adapt(task: ChunkTask) -> _Collected:
    adapter = get_adapter(task.format, task.mapping)
    if task.otel_content is not None and isinstance(adapter, OtelGenAIAdapter):
        adapter = adapter.joined(read_content(task.otel_content))
    records, lines = task.chunk.load()
    out = _Collected(lambda i, reason: bad_row(records[i], reason), lines=lines)
    for position, record in enumerate(records):
        try:
            own = _adapter_for(adapter, record, task)
            produced = _convert(own, record)
            declared = _declared(own, record)
        except RowError as exc:
            out.read += 1
            out.bad.append(bad_row(record, str(exc)))
            continue
        out.read += len(produced)
        if declared is not None:
            out.accounts[str(declared["account_id"])] = declared
        for row in produced:
            if isinstance(row, RowError):  # one exchange of many the record holds
                out.bad.append(bad_row(record, str(row)))
                continue
            try:
                out.rows.append(validate_exchange(row))
                out.origins.append(position)
            except RowError as exc:
                out.bad.append(bad_row(record, in_log_words(str(exc), own, record.value)))
    return out


_LAKE_FIELD = re.compile(r"at `\$\.(\w+)`|missing required field `(\w+)`|field '(\w+)'")


def in_log_words(reason: str, adapter: Adapter, record: Any) -> str:
    """A validation reason names the lake's field (`$.ts`); for an adapted log, add where
    the record holds it (`metadata.timestamp`), which is what its user can look up."""
    found = _LAKE_FIELD.search(reason)
    name = next((g for g in found.groups() if g), None) if found else None
    where = adapter.source_of(name, record) if name else None
    return f"{reason} (in this log: {where})" if where else reason


def _native_parquet(chunk: Chunk) -> tuple[pa.Table, _Collected] | None:
    """Parquet in the lake's schema: validated in Arrow, only bad rows looked at one by one."""
    table = chunk.read_table()
    conformed = conform_exchanges(table)
    if conformed is None:
        return None

    def describe(position: int, reason: str) -> BadRow:
        value = table.slice(position, 1).to_pylist()[0]
        return bad_row(RawRecord(chunk.source, position + 1, value), reason)

    good, bad_mask = conformed
    out = _Collected(describe, read=table.num_rows, lines=table.num_rows)
    for position in np.flatnonzero(bad_mask).tolist():
        try:
            validate_exchange(table.slice(position, 1).to_pylist()[0])
            reason = "row breaks an exchange-log rule"
        except RowError as exc:
            reason = str(exc)
        out.bad.append(describe(position, reason))
    out.origins = np.flatnonzero(~bad_mask).tolist()
    return good.filter(pa.array(~bad_mask)), out


def _to_table(out: _Collected) -> pa.Table:
    """The collected rows as the lake's table; a row Arrow refuses is quarantined alone."""
    try:
        return rows_to_table(out.rows, EXCHANGE_FIELDS, EXCHANGES_SCHEMA)
    except _STORE_ERRORS:
        pass
    rows, origins = [], []
    for row, origin in zip(out.rows, out.origins, strict=True):
        try:
            rows_to_table([row], EXCHANGE_FIELDS, EXCHANGES_SCHEMA)
        except _STORE_ERRORS as exc:
            out.bad.append(out.describe(origin, f"cannot be stored: {exc}"))
            continue
        rows.append(row)
        origins.append(origin)
    out.rows, out.origins = rows, origins
    return rows_to_table(rows, EXCHANGE_FIELDS, EXCHANGES_SCHEMA)


def _drop_implausible(table: pa.Table, out: _Collected, window: TimeWindow) -> pa.Table:
    outside = window.outside(table["ts"])
    if not outside.any():
        return table
    for position in np.flatnonzero(outside).tolist():
        ts = table["ts"][position].as_py()
        out.bad.append(out.describe(out.origins[position], window.reason(ts)))
    return table.filter(pa.array(~outside))


def _collect(task: ChunkTask) -> tuple[pa.Table, _Collected]:
    native = task.format == ExchangeLogAdapter.name
    fast = _native_parquet(task.chunk) if native and not task.chunk.is_jsonl else None
    if fast is not None:
        return fast
    out = _decode_native(task.chunk) if native and task.chunk.is_jsonl else _adapt(task)
    return _to_table(out), out


def _unreadable(task: ChunkTask, reason: str) -> ChunkResult:
    """A chunk quarantined whole, as one entry: its bytes could not be read."""
    bad = BadRow(task.chunk.source, 1, "", reason)
    return ChunkResult(task.index, max(task.chunk.line_count, 1), 1, 0, [bad])


def process_chunk(task: ChunkTask) -> ChunkResult:
    """Validate and stage one chunk; bad rows come back for the quarantine."""
    if task.chunk.broken is not None:
        return _unreadable(task, task.chunk.broken)
    try:
        table, out = _collect(task)
    except _READ_ERRORS as exc:
        return _unreadable(task, f"cannot read this part of the file: {read_error(exc)}")
    table = _drop_implausible(table, out, task.window)
    if table.num_rows:
        write_staged(task.staging_dir, task.index, table)
    bad = sorted(out.bad, key=lambda row: row.line)
    accounts = list(out.accounts.values())
    return ChunkResult(task.index, out.lines, out.read, table.num_rows, bad, accounts)
