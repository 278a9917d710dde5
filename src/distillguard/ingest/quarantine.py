"""The quarantine: one JSON line per bad row with its source, line number, reason and raw text.

Re-ingesting a file must not quarantine its bad rows twice, so each entry is keyed by
(source, line, raw text, reason) and an entry already present is counted but not written again.
Entries are appended as they are found; a run killed mid-append leaves at most a torn last
line, which the next run cuts off (its row is quarantined again when its file is re-read).

A run that reads a file again from its first line to its last (`renew`) also says what is
no longer bad in it: an entry of that file the run did not find again (a line cut off by
its writer and since completed, a row fixed by hand) is cleared when the run ends
(`clear_stale`), so the quarantine never lists a row the lake holds.
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
    cleared: int = 0
    _keys: set[str] = field(default_factory=set)
    _sources: dict[str, str] = field(default_factory=dict)  # this table's entries: key -> source
    _renewed: set[str] = field(default_factory=set)
    _found: set[str] = field(default_factory=set)  # keys this run added or found again
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
        key = _entry_key(line)
        if key is None:
            return  # not an entry of ours (edited by hand?): kept as it is, never matched
        self._keys.add(key[0])
        if key[1] == self.table:
            self._sources[key[0]] = key[2]

    def renew(self, sources: set[str]) -> None:
        """This run reads `sources` (resolved paths) whole: their entries it does not find
        again are cleared by clear_stale."""
        self._renewed |= sources

    @property
    def count(self) -> int:
        return self.written + self.already_present

    def add(self, row: BadRow) -> None:
        key = _key(row.source, row.line, row.raw, row.reason)
        self._found.add(key)
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

    def clear_stale(self, partly_read: set[str]) -> None:
        """After close: drop the entries of renewed sources this run did not find again,
        except those of `partly_read` sources (a file or part of one this run could not
        read says nothing of the rows it did not reach)."""
        renewed = self._renewed - partly_read
        stale = {k for k, source in self._sources.items() if source in renewed} - self._found
        if not stale:
            return
        kept = [line for line in self._lines() if (_entry_key(line) or ("",))[0] not in stale]
        interim = self.path.with_name(self.path.name + ".clearing")
        with interim.open("wb") as handle:
            handle.writelines(kept)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(interim, self.path)  # whole or not at all, whenever the run is killed
        self.cleared += len(stale)
        self._keys -= stale
        for key in stale:
            del self._sources[key]

    def _lines(self) -> list[bytes]:
        with self.path.open("rb") as handle:
            return handle.readlines()


def _entry_key(line: bytes) -> tuple[str, str, str] | None:
    """An entry's key, table and source; None for a line that is not an entry of ours."""
    try:
        entry = orjson.loads(line)
        key = _key(entry["source"], entry["line"], entry["raw"], entry["reason"])
        return key, str(entry.get("table", "exchanges")), str(entry["source"])
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return None
