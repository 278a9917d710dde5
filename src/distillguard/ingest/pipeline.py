"""Ingest: input files → adapter → validation → lake, with bad rows quarantined and counted.

Chunks of input are adapted, validated and staged by worker processes (parsing JSON and
validating rows is Python work, so two cores need two processes); results come back in
input order so the quarantine is written deterministically.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from distillguard.ingest.adapters import AUTO, FieldMapping, detect_adapter, get_adapter
from distillguard.ingest.adapters.exchange_log import ExchangeLogAdapter
from distillguard.ingest.chunks import ChunkResult, ChunkTask, process_chunk
from distillguard.ingest.declared_accounts import merge_declared_accounts
from distillguard.ingest.lake import Lake, StagingArea, merge_accounts
from distillguard.ingest.layout import migrate_partition_columns
from distillguard.ingest.otel_join import split_otel_logs, write_content
from distillguard.ingest.quarantine import BadRow, Quarantine, bad_row
from distillguard.ingest.sources import (
    Chunk,
    expand_inputs,
    expand_paths,
    iter_chunks,
    iter_records,
)
from distillguard.schema.validate import RowError, validate_account

# Below this much input, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 16 << 20


@dataclass(frozen=True)
class IngestSummary:
    """What one ingest run did, with the one line a person reads at its end."""

    files: int
    read: int
    kept: int
    duplicates: int
    quarantined: int
    quarantined_before: int
    accounts_read: int
    accounts_quarantined: int
    accounts_in_lake: int
    lake: Path
    accounts_declared: int = 0
    otel_logs: int = 0
    skipped: tuple[str, ...] = ()

    def line(self) -> str:
        again = f" ({self.quarantined_before} already there)" if self.quarantined_before else ""
        accounts = ""
        if self.accounts_read:
            accounts = (
                f"; accounts: read {self.accounts_read}, quarantined {self.accounts_quarantined},"
                f" {self.accounts_in_lake} in lake"
            )
        if self.accounts_declared:
            accounts += f"; accounts declared by the log: {self.accounts_declared}"
        return (
            f"ingest: {self.files} file(s), read {self.read}, kept {self.kept}, "
            f"duplicates {self.duplicates}, quarantined {self.quarantined}{again}{accounts}"
            f"{self._extras()} -> {self.lake}"
        )

    def _extras(self) -> str:
        joined = f"; message content from {self.otel_logs} OTel logs file(s)"
        skipped = f"; skipped {len(self.skipped)} file(s): {', '.join(self.skipped)}"
        return (joined if self.otel_logs else "") + (skipped if self.skipped else "")


def _detect_format(chunk: Chunk, fmt: str, mapping: FieldMapping | None) -> str:
    """The adapter for a file: forced, or recognised from its first parseable record."""
    if fmt != AUTO:
        return fmt
    adapter = detect_adapter(chunk.first_value(), mapping)
    # A first record of no known shape is read as native rows, so the validator says
    # precisely what is missing instead of "unknown shape".
    return adapter.name if adapter else ExchangeLogAdapter.name


def _tasks(
    files: list[Path],
    fmt: str,
    mapping: FieldMapping | None,
    staging: StagingArea,
    otel_content: Path | None = None,
) -> Iterator[ChunkTask]:
    index = 0
    for path in files:
        file_format: str | None = None
        for chunk in iter_chunks(path):
            file_format = file_format or _detect_format(chunk, fmt, mapping)
            yield ChunkTask(index, chunk, file_format, mapping, staging.dir, otel_content)
            index += 1


def _results(tasks: Iterator[ChunkTask], workers: int) -> Iterator[tuple[ChunkTask, ChunkResult]]:
    """Chunk results in input order, with at most 2 chunks per worker in flight."""
    if workers <= 1:
        yield from ((task, process_chunk(task)) for task in tasks)
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("forkserver")) as pool:
        pending: deque[tuple[ChunkTask, Future[ChunkResult]]] = deque()
        for task in tasks:
            pending.append((task, pool.submit(process_chunk, task)))
            if len(pending) >= 2 * workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


def _default_workers(files: list[Path]) -> int:
    size = sum(p.stat().st_size for p in files)
    return min(2, os.cpu_count() or 1) if size >= PARALLEL_MIN_BYTES else 1


def _ingest_accounts(paths: list[Path], lake: Lake) -> tuple[int, int, int]:
    q = Quarantine(lake.quarantine_path, table="accounts")
    rows: list[Any] = []
    read = 0
    try:
        for path in expand_paths(paths):
            for record in iter_records(path):
                read += 1
                try:
                    if record.error is not None:
                        raise RowError(record.error)
                    rows.append(validate_account(record.value))
                except RowError as exc:
                    q.add(bad_row(record, str(exc)))
    finally:
        q.close()
    in_lake = merge_accounts(lake, rows) if rows else 0
    return read, q.count, in_lake


def ingest(
    paths: list[Path],
    out: Path,
    accounts: list[Path] | None = None,
    *,
    fmt: str = AUTO,
    mapping: FieldMapping | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestSummary:
    """Ingest exchange-log (or adapted) files and optional account files into the lake at `out`;
    `progress` is called with the rows of each chunk read."""
    if fmt != AUTO:
        get_adapter(fmt)  # an unknown format fails before any file is read
    inputs = expand_inputs(paths)
    files, otel_logs = split_otel_logs(inputs.files)
    lake = Lake(out)
    migrate_partition_columns(lake.exchange_files())  # lakes written before the fix
    staging = StagingArea(lake)
    q = Quarantine(lake.quarantine_path)
    read = staged = 0
    line_base: dict[str, int] = {}
    declared: dict[str, Any] = {}
    try:
        content = None
        if otel_logs:
            content, unreadable = write_content(otel_logs, staging.dir)
            for record in unreadable:
                q.add(bad_row(record, str(record.error)))
        tasks = _tasks(files, fmt, mapping, staging, content)
        for task, result in _results(tasks, workers or _default_workers(files)):
            read += result.read
            staged += result.staged
            if progress is not None:
                progress(result.read)
            base = line_base.get(task.chunk.source, 0)
            for row in result.bad:
                q.add(BadRow(row.source, base + row.line, row.raw, row.reason))
            line_base[task.chunk.source] = base + result.lines
            declared.update((str(row["account_id"]), row) for row in result.accounts)
        kept = staging.merge_into(lake)
    finally:
        q.close()
        staging.discard()
    accounts_declared = merge_declared_accounts(lake, declared)
    accounts_read, accounts_bad, accounts_in_lake = _ingest_accounts(accounts or [], lake)
    return IngestSummary(
        files=len(files) + len(otel_logs),
        read=read,
        kept=kept,
        duplicates=staged - kept,
        quarantined=q.count,
        quarantined_before=q.already_present,
        accounts_read=accounts_read,
        accounts_quarantined=accounts_bad,
        accounts_in_lake=accounts_in_lake,
        lake=out,
        accounts_declared=accounts_declared,
        otel_logs=len(otel_logs),
        skipped=tuple(inputs.skipped),
    )
