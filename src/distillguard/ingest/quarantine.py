"""The quarantine: one JSON line per bad row with its source, line number, reason and raw text.

Re-ingesting a file must not quarantine its bad rows twice, so each entry is keyed by
(source, line, raw text, reason) and an entry already present is counted but not written again.
Entries are appended as they are found; a run killed mid-append leaves at most a torn last
line, which the next run cuts off (its row is quarantined again when its file is re-read).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from distillguard.ingest.sources import RawRecord


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be kept: where it came from, its raw text, and why."""

    source: str
    line: int
    raw: str
    reason: str


def bad_row(record: RawRecord, reason: str) -> BadRow:
    if record.raw is not None:
        raw = raw_text(record.raw)
    else:
        try:
            raw = orjson.dumps(record.value, default=str, option=orjson.OPT_SORT_KEYS).decode()
        except (orjson.JSONEncodeError, RecursionError):  # nested past orjson's depth
            raw = TOO_DEEP_TO_WRITE
    return BadRow(record.source, record.line, raw, reason)


def raw_text(line: bytes) -> str:
    """A line as it was written, as text: a byte that is not UTF-8 kept as \\xNN (it was
    lost to U+FFFD, and the line could not be recovered from the quarantine)."""
    return line.rstrip(b"\r\n").decode("utf-8", errors="backslashreplace")


TOO_DEEP_TO_WRITE = "(nested too deep to write back here: see its source file and line)"


def _key(source: str, line: int, raw: str, reason: str) -> str:
    text = f"{source}\0{line}\0{reason}\0{raw}"
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


@dataclass
class Quarantine:
    """Appends bad rows to a JSONL file, skipping rows it already holds."""

    path: Path
    table: str = "exchanges"
    written: int = 0
    already_present: int = 0
    _keys: set[str] = field(default_factory=set)
    _handle: IO[bytes] | None = None

    def __post_init__(self) -> None:
        if not self.path.exists():
            return
        whole = 0  # bytes up to the end of the last line with its newline
        with self.path.open("rb") as handle:
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # a run killed mid-write left half an entry: cut off below
                whole += len(line)
                self._remember(line)
        if whole < self.path.stat().st_size:
            with self.path.open("r+b") as handle:
                handle.truncate(whole)

    def _remember(self, line: bytes) -> None:
        try:
            entry = orjson.loads(line)
            self._keys.add(_key(entry["source"], entry["line"], entry["raw"], entry["reason"]))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            pass  # not an entry of ours (edited by hand?): kept as it is, never matched

    @property
    def count(self) -> int:
        return self.written + self.already_present

    def add(self, row: BadRow) -> None:
        key = _key(row.source, row.line, row.raw, row.reason)
        if key in self._keys:
            self.already_present += 1
            return
        self._keys.add(key)
        entry: dict[str, Any] = {
            "table": self.table,
            "source": row.source,
            "line": row.line,
            "reason": row.reason,
            "raw": row.raw,
            "quarantined_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("ab")
        self._handle.write(orjson.dumps(entry) + b"\n")
        self.written += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None
