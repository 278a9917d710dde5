"""Ingest: input files → adapter → validation → lake, with bad rows quarantined and counted.

Chunks of input are adapted, validated and staged by worker processes (parsing JSON and
validating rows is Python work, so two cores need two processes); results come back in
input order so the quarantine is written deterministically. Bad rows are quarantined one
by one, an unreadable file is named and skipped, and the lake gains the run's rows in one
commit (see ingest/lake.py), under a lock that keeps a second writer out.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from distillguard.errors import UserError
from distillguard.faults import crash_point
from distillguard.ingest.accounts_file import ingest_accounts
from distillguard.ingest.adapters import AUTO, FieldMapping, detect_adapter, get_adapter
from distillguard.ingest.adapters.exchange_log import ExchangeLogAdapter
from distillguard.ingest.chunks import ChunkResult, ChunkTask, process_chunk
from distillguard.ingest.declared_accounts import merge_declared_accounts
from distillguard.ingest.inputs import check_account_files, expand_inputs, is_detect_output
from distillguard.ingest.lake import (
    Lake,
    StagingArea,
    needs_recovery,
    recover,
)
from distillguard.ingest.layout import migrate_partition_columns
from distillguard.ingest.otel_join import split_otel_logs, write_content
from distillguard.ingest.outcome import (
    FILE_ERRORS,
    FileTally,
    IngestSummary,
    UnreadableFilesError,
    cannot_read,
)
from distillguard.ingest.plausible import TimeWindow
from distillguard.ingest.quarantine import BadRow, Quarantine, bad_row
from distillguard.ingest.sources import Chunk, Tail, iter_chunks
from distillguard.store.lock import RunLock
from distillguard.workers import worker_pool

# Below this much input, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 16 << 20
# One writer per lake at a time: held for the whole run, released by the kernel on a crash.
WRITER_LOCK = ".lock"
DETECT_RECORDS = 20  # records a file's format is recognised from


def _detect_format(chunk: Chunk, fmt: str, mapping: FieldMapping | None) -> str:
    """The adapter for a file: forced, or the shape most of its first records of a known
    shape have (the one seen first on a tie), so one odd first record does not decide a
    file; records of no known shape do not vote."""
    if fmt != AUTO:
        return fmt
    found = [detect_adapter(value, mapping) for value in chunk.first_values(DETECT_RECORDS)]
    votes = Counter(adapter.name for adapter in found if adapter is not None)
    # Records of no known shape are read as native rows, so the validator says precisely
    # what is missing instead of "unknown shape".
    return votes.most_common(1)[0][0] if votes else ExchangeLogAdapter.name


@dataclass
class _Plan:
    """What the chunk tasks share, and the files found unreadable while cutting them."""

    fmt: str
    mapping: FieldMapping | None
    staging: Path
    window: TimeWindow
    otel_content: Path | None = None
    progress: Callable[[int], None] | None = None
    tails: dict[str, Tail] = field(default_factory=dict)  # by resolved path
    unreadable: list[str] = field(default_factory=list)

    def read_whole(self, files: list[Path]) -> set[str]:
        """The sources this run reads from their first line (not from a watch's tail)."""
        return {str(p.resolve()) for p in files} - set(self.tails)


def _file_chunks(path: Path, plan: _Plan) -> Iterator[tuple[Chunk, str]]:
    """A file's chunks with its format; an unreadable file is noted and ends early (its
    chunks read so far stay: rows are isolated, files are too)."""
    chunks = iter_chunks(path, plan.tails.get(str(path.resolve())))
    file_format: str | None = None
    while True:
        try:
            chunk = next(chunks, None)
            if chunk is None:
                return
            file_format = file_format or _detect_format(chunk, plan.fmt, plan.mapping)
        except (UserError, *FILE_ERRORS) as exc:
            plan.unreadable.append(cannot_read(path, exc))
            return
        yield chunk, file_format


def _tasks(files: list[Path], plan: _Plan) -> Iterator[ChunkTask]:
    index = 0
    for path in files:
        for chunk, file_format in _file_chunks(path, plan):
            yield ChunkTask(
                index,
                chunk,
                file_format,
                plan.mapping,
                plan.staging,
                plan.window,
                plan.otel_content,
                forced=plan.fmt != AUTO,
            )
            index += 1


def _results(tasks: Iterator[ChunkTask], workers: int) -> Iterator[tuple[ChunkTask, ChunkResult]]:
    """Chunk results in input order, with at most 2 chunks per worker in flight."""
    if workers <= 1:
        yield from ((task, process_chunk(task)) for task in tasks)
        return
    with worker_pool(workers) as pool:
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


@dataclass(frozen=True)
class _Counts:
    read: int
    kept: int
    duplicates: int
    quarantined: int
    quarantined_before: int
    declared: dict[str, Any]
    otel_logs: int
    cleared: int
    all_quarantined: tuple[str, ...]
    quarantined_from: tuple[str, ...]
    first_reason: str | None


def _ingest_exchanges(
    split: tuple[list[Path], list[Path]], lake: Lake, plan_args: dict[str, Any], workers: int
) -> tuple[_Counts, list[str]]:
    """Ingest (exchange files, OTel logs files) into the lake, bad rows quarantined."""
    staging = StagingArea(lake)
    files, otel_logs = split
    q = Quarantine(lake.quarantine_path)
    read = staged = 0
    tally = FileTally()
    line_base: dict[str, int] = {}
    declared: dict[str, Any] = {}
    results: Iterator[tuple[ChunkTask, ChunkResult]] = iter(())
    try:
        content = None
        if otel_logs:  # v1.30 conventions: message content lives in a logs file
            content, bad_logs = write_content(otel_logs, staging.dir)
            for record in bad_logs:
                q.add(bad_row(record, str(record.error)))
        plan = _Plan(staging=staging.dir, otel_content=content, **plan_args)
        line_base.update((source, tail.line) for source, tail in plan.tails.items())
        q.renew(plan.read_whole([*files, *otel_logs]))
        results = _results(_tasks(files, plan), workers)
        for task, result in results:
            read += result.read
            staged += result.staged
            tally.add(task.chunk.source, result.read, [row.reason for row in result.bad])
            if plan.progress is not None:
                plan.progress(result.read)
            base = line_base.get(task.chunk.source, 0)
            for row in result.bad:
                q.add(BadRow(row.source, base + row.line, row.raw, row.reason))
            line_base[task.chunk.source] = base + result.lines
            declared.update((str(row["account_id"]), row) for row in result.accounts)
            crash_point("ingest.chunk")
        q.close()
        crash_point("ingest.staged")
        kept = staging.merge_into(lake)
        q.clear_completed()  # after the merge: a completed line's row is in the lake
    finally:
        # The pool is shut down (its workers gone) before the staging is removed: a worker
        # still running would write into a staging folder that is already discarded.
        close = getattr(results, "close", None)
        if close is not None:
            close()
        q.close()
        staging.discard()
    counts = _Counts(
        read,
        kept,
        staged - kept,
        q.count,
        q.already_present,
        declared,
        len(otel_logs),
        q.cleared,
        tally.all_quarantined(),
        tally.quarantined_from(),
        tally.first(),
    )
    return counts, plan.unreadable


def finish_interrupted(lake: Lake) -> int:
    """Carry out or remove what killed ingest runs left in `lake` (for readers such as
    detect, which would otherwise see a run's commit half done); returns how many runs."""
    if not needs_recovery(lake):
        return 0
    lock = RunLock(lake.staging_dir / WRITER_LOCK, f"lake {lake.root}")
    try:
        return recover(lake)
    finally:
        lock.release()


def _table_rows(path: Path) -> int:
    return pq.read_metadata(path).num_rows if path.exists() else 0


def _new(found: list[Path], given: list[Path]) -> list[Path]:
    """The account tables found beside a simulated log that --accounts does not name."""
    named = {p.resolve() for p in given}
    return [p for p in found if p.resolve() not in named]


def ingest(
    paths: list[Path],
    out: Path,
    accounts: list[Path] | None = None,
    *,
    fmt: str = AUTO,
    mapping: FieldMapping | None = None,
    workers: int | None = None,
    window: TimeWindow | None = None,
    progress: Callable[[int], None] | None = None,
    tails: Mapping[Path, Tail] | None = None,
) -> IngestSummary:
    """Ingest exchange-log (or adapted) files and optional account files into the lake at
    `out`. Every readable file is ingested; if some could not be read, the run still
    commits the rest, then raises `UnreadableFilesError` naming every one. `progress` is
    called with the rows of each chunk read. A file with a `tails` entry is read from
    there (plain JSONL; see watch, which reads a growing file's new rows only)."""
    if fmt != AUTO:
        get_adapter(fmt)  # an unknown format fails before any file is read
    inputs = expand_inputs(paths)
    given = check_account_files(accounts or [])  # a simulated folder: its accounts table
    files = inputs.files
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a lake folder")
    if is_detect_output(out):  # its next run would replace the folder, these rows with it
        raise UserError(
            f"{out} is a detect output folder, which detect replaces whole: ingest into "
            "a lake folder of its own"  # not "--out": watch takes its lake as LAKE
        )
    split = split_otel_logs(files)  # logs without their spans: refused before out is made
    lake = Lake(out)
    lock = RunLock(lake.staging_dir / WRITER_LOCK, f"lake {out}")
    try:
        recover(lake)
        migrate_partition_columns(lake.exchange_files())  # lakes written before the fix
        window = window or TimeWindow.around()
        plan_args = {"fmt": fmt, "mapping": mapping, "window": window, "progress": progress,
                     "tails": {str(p.resolve()): t for p, t in (tails or {}).items()}}  # fmt: skip
        counts, unreadable = _ingest_exchanges(
            split, lake, plan_args, workers or _default_workers(files)
        )
        declared = merge_declared_accounts(lake, counts.declared)
        tables = [*given, *_new(inputs.accounts, given)]
        accounts_read, accounts_bad = ingest_accounts(tables, lake, unreadable)
        # The table's size whoever filled it: the logs' declared accounts count too.
        accounts_in_lake = _table_rows(lake.accounts_path)
    finally:
        lock.release()
    summary = IngestSummary(
        files=len(files),
        read=counts.read,
        kept=counts.kept,
        duplicates=counts.duplicates,
        quarantined=counts.quarantined,
        quarantined_before=counts.quarantined_before,
        quarantine_cleared=counts.cleared,
        all_quarantined=counts.all_quarantined,
        quarantined_from=counts.quarantined_from,
        first_reason=counts.first_reason,
        accounts_read=accounts_read,
        accounts_quarantined=accounts_bad,
        accounts_in_lake=accounts_in_lake,
        lake=out,
        unreadable=tuple(unreadable),
        accounts_declared=declared,
        otel_logs=counts.otel_logs,
        skipped=tuple(inputs.skipped),
    )
    if unreadable:
        raise UnreadableFilesError(summary)
    return summary
