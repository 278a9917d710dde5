"""What an ingest run tells its user, and how it names a file it could not read."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from distillguard.errors import UserError
from distillguard.ingest.sources import read_error

# What reading a file can raise beyond UserError (format detection reads its first record).
FILE_ERRORS = (OSError, EOFError, zlib.error, pa.ArrowException)


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
    unreadable: tuple[str, ...] = ()  # one "cannot read FILE: why" per file not read
    accounts_declared: int = 0
    otel_logs: int = 0
    skipped: tuple[str, ...] = ()
    quarantine_cleared: int = 0  # earlier entries of lines cut off, whole now
    # "all N rows of FILE were quarantined (the first: why)", per file that gave no row
    all_quarantined: tuple[str, ...] = ()
    # "FILE (N)" per file with a row quarantined this run, in the order read
    quarantined_from: tuple[str, ...] = ()
    first_reason: str | None = None  # why this run's first quarantined row was refused

    def changed_lake(self) -> bool:
        """Whether the run added anything detect reads: a kept exchange or an account row.
        A run that only quarantined rows (or met duplicates) left detect's input as it was."""
        return bool(self.kept or self.accounts_read or self.accounts_declared)

    def notes(self) -> list[str]:
        """One line per file of a run of several whose rows all went to the quarantine: a
        folder holding a file of another shape otherwise read as a success."""
        if self.files < 2 or (self.read and self.quarantined == self.read):
            return []  # one file, or all of them: the run's own error says it
        return [f"ingest: note: {entry}{_shape_hint(entry)}" for entry in self.all_quarantined]

    def line(self) -> str:
        again = f" ({self.quarantined_before} already there)" if self.quarantined_before else ""
        if self.quarantine_cleared:
            n = self.quarantine_cleared
            entries = f"{n} earlier quarantine entr{'ies' if n != 1 else 'y'}"
            again += f"; {entries} cleared (a line cut off then is whole now)"
        accounts = ""
        if self.accounts_read:
            accounts = (
                f"; accounts: read {self.accounts_read}, quarantined {self.accounts_quarantined},"
                f" {self.accounts_in_lake} in lake"
            )
        elif self.accounts_declared:  # the logs' own (a LiteLLM key's team): no file read
            accounts = f"; accounts: {self.accounts_in_lake} in lake"
        return (
            f"ingest: {self.files} file(s), read {self.read}, kept {self.kept}, "
            f"duplicates {self.duplicates}, quarantined {self.quarantined}{again}{accounts}"
            f"{self._extras()} -> {self.lake}"
        )

    def _extras(self) -> str:
        joined = f"; message content from {self.otel_logs} OTel logs file(s)"
        return (joined if self.otel_logs else "") + self.skipped_text()

    def skipped_text(self) -> str:
        """The files found in the input folders and not read as exchanges, with why."""
        if not self.skipped:
            return ""
        # "skipped" read oddly beside a simulated accounts file that is read, as accounts
        return f"; not read as exchanges: {len(self.skipped)} file(s): {', '.join(self.skipped)}"


@dataclass
class FileTally:
    """Rows read and quarantined per source file, in the order first seen."""

    read: dict[str, int] = field(default_factory=dict)
    bad: dict[str, int] = field(default_factory=dict)
    first_reason: dict[str, str] = field(default_factory=dict)

    def add(self, source: str, read: int, reasons: list[str]) -> None:
        self.read[source] = self.read.get(source, 0) + read
        self.bad[source] = self.bad.get(source, 0) + len(reasons)
        if reasons:
            self.first_reason.setdefault(source, reasons[0])

    def first(self) -> str | None:
        """The reason the first quarantined row of the first file with one was refused."""
        return next(iter(self.first_reason.values()), None)

    def quarantined_from(self) -> tuple[str, ...]:
        return tuple(f"{source} ({n:,})" for source, n in self.bad.items() if n)

    def all_quarantined(self) -> tuple[str, ...]:
        return tuple(
            f"{_all(n)} of {source} {'was' if n == 1 else 'were'} quarantined "
            f"({'reason' if n == 1 else 'first reason'}: {self.first_reason[source]})"
            for source, n in self.read.items()
            if n and self.bad.get(source) == n
        )


def _shape_hint(entry: str) -> str:
    """Advice where the reason is what a record of no known shape gives (read as exchange-
    log v1, it lacks the first field checked); a time window or a bad byte needs none."""
    return ": not exchange-log v1 or a known log shape? see --format" * ("`request_id`" in entry)


def _all(rows: int) -> str:
    return "the one row" if rows == 1 else f"all {rows:,} rows"


class UnreadableFilesError(UserError):
    """Some input files could not be read; every other file was ingested and committed."""

    def __init__(self, summary: IngestSummary) -> None:
        self.summary = summary
        names = "; ".join(summary.unreadable)
        others = ", the others were ingested" if summary.files > len(summary.unreadable) else ""
        super().__init__(
            f"{len(summary.unreadable)} file(s) could not be read{others}"
            f" ({summary.line()}): {names}"
        )


def cannot_read(path: Path, exc: BaseException) -> str:
    return str(exc) if isinstance(exc, UserError) else f"cannot read {path}: {read_error(exc)}"
