"""The quarantine: one JSON line per bad row with its source, line number, reason and raw text.

Re-ingesting a file must not quarantine its bad rows twice, so each entry is keyed by
(source, line, raw text, reason) and an entry already present is counted but not written again.
Entries are appended as they are found; a run killed mid-append leaves at most a torn last
line, which the next run cuts off (its row is quarantined again when its file is re-read).

A run that reads a file again from its first line (`renew`) clears the entries of lines
its writer had cut off and has since completed (`clear_completed`, see ingest/completed):
the row was read whole this time, kept or quarantined under its whole text. No other
entry is ever cleared: a file rotated or replaced at the same path holds other rows, and
an entry is the only copy of its row.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from distillguard.ingest.completed import completed_lines
from distillguard.ingest.sources import RawRecord, raw_text


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
    # this table's entries' source and line (not their raw text: a quarantine may hold
    # millions of prompts, read again only for the few a run may clear)
    _entries: dict[str, tuple[str, int]] = field(default_factory=dict)
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
        entry = _entry(line)
        key = _key_of(entry)
        if entry is None or key is None:
            return  # not an entry of ours (edited by hand?): kept as it is, never matched
        self._keys.add(key)
        if entry.get("table", "exchanges") == self.table:
            self._entries[key] = (sys.intern(str(entry["source"])), int(entry["line"]))

    def renew(self, sources: set[str]) -> None:
        """This run reads `sources` (resolved paths) from their first line: the lines of
        theirs it quarantined cut off and finds completed are cleared by clear_completed."""
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

    def clear_completed(self) -> None:
        """After close and the lake's merge: drop the entries of renewed sources that this
        run did not find again and whose lines their writers have since completed."""
        candidates = {
            k for k, (source, _) in self._entries.items() if source in self._renewed
        } - self._found
        if not candidates:  # a file read again as it was: every entry found again
            return
        held: dict[str, tuple[str, int, str]] = {}  # key -> source, line, raw
        for entry in map(_entry, self._lines()):
            if entry is not None and (key := _key_of(entry)) in candidates:
                held[key] = (str(entry["source"]), int(entry["line"]), str(entry["raw"]))
        cut: dict[str, set[tuple[int, str]]] = {}
        for source, number, raw in held.values():
            cut.setdefault(source, set()).add((number, raw))
        done = {(s, n, raw) for s, pairs in cut.items() for n, raw in completed_lines(s, pairs)}
        stale = {key for key, entry in held.items() if entry in done}
        if stale:
            self._rewrite_without(stale)

    def _rewrite_without(self, stale: set[str]) -> None:
        kept = (line for line in self._lines() if _key_of(_entry(line)) not in stale)
        interim = self.path.with_name(self.path.name + ".clearing")
        interim.unlink(missing_ok=True)  # a killed run's, whatever its mode
        # it holds raw prompts: owner-only while written, then the mode the file had
        with os.fdopen(os.open(interim, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.writelines(kept)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(interim, stat.S_IMODE(self.path.stat().st_mode))
        os.replace(interim, self.path)  # whole or not at all, whenever the run is killed
        self.cleared += len(stale)
        self._keys -= stale
        for key in stale:
            del self._entries[key]

    def _lines(self) -> Iterator[bytes]:
        """The file's lines, one at a time: it may hold millions of prompts."""
        with self.path.open("rb") as handle:
            yield from handle


def _entry(line: bytes) -> dict[str, Any] | None:
    """An entry of ours, or None (a line edited by hand, another tool's)."""
    try:
        entry = orjson.loads(line)
        _key(entry["source"], int(entry["line"]), str(entry["raw"]), str(entry["reason"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return entry if isinstance(entry, dict) else None


def _key_of(entry: dict[str, Any] | None) -> str | None:
    if entry is None:
        return None
    return _key(entry["source"], entry["line"], entry["raw"], entry["reason"])


def clear_quarantine(path: Path) -> tuple[int, int]:
    """Remove the quarantine file at `path`, on its owner's word (`lake --clear-quarantine`:
    its rows were fixed and ingested again, or are not wanted); (entries, bytes) it held.
    The caller holds the lake's writer lock, so no ingest appends meanwhile."""
    if not path.exists():
        return 0, 0
    size, entries = path.stat().st_size, quarantined_rows(path)
    path.unlink()
    return entries, size


def quarantined_rows(path: Path) -> int:
    """The entries of the quarantine file at `path` (0 where there is none)."""
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        return sum(1 for _ in handle)
