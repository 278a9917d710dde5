"""Input files as chunks of raw records, each small enough for one worker process.

A plain JSONL file is cut into byte ranges at line boundaries, and each worker reads its
own range, so the main process never copies the data. A gzip file cannot be seeked, so its
lines are read here and handed over. Parquet is cut by row group. Memory stays bounded by
the chunk size whatever the file size. Line numbers inside a chunk count from 1; the caller
adds the lines of the chunks before it. A line that is not JSON becomes a record with an
error, not an exception: it is quarantined and reading goes on.
"""

from __future__ import annotations

import dataclasses
import gzip
import zlib
from codecs import BOM_UTF8
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.errors import UserError
from distillguard.ingest.parquet_values import first_rows, read_parquet

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
CHUNK_BYTES = 32 << 20
CHUNK_LINES = 20_000


@dataclass(frozen=True)
class RawRecord:
    """One input record: the parsed value (with its line, when it came from one), or the
    raw text and why it could not be parsed."""

    source: str
    line: int
    value: Any
    raw: bytes | None = None
    error: str | None = None


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive rows of one file: a byte range, a list of lines, or row groups."""

    path: Path
    byte_range: tuple[int, int] | None = None
    lines: list[bytes] | None = None
    row_groups: tuple[int, ...] | None = None
    rows: int = 0  # a Parquet chunk's row count (its "lines")
    broken: str | None = None  # why the rest of the file cannot be read

    @property
    def line_count(self) -> int:
        """The chunk's lines, where known without reading it."""
        return len(self.lines) if self.lines is not None else self.rows

    @property
    def source(self) -> str:
        return str(self.path.resolve())

    def _lines(self) -> list[bytes]:
        if self.lines is not None:
            return self.lines
        if self.byte_range is None:
            return []
        start, end = self.byte_range
        with self.path.open("rb") as handle:
            handle.seek(start)
            lines = handle.read(end - start).split(b"\n")
        return lines[:-1] if lines and not lines[-1] else lines

    def first_values(self, limit: int) -> list[Any]:
        """The values of the first `limit` parseable records, read without loading the
        whole chunk: what format detection needs."""
        if self.row_groups is not None:
            rows: list[Any] = first_rows(self.path, limit).to_pylist()
            return rows
        values = []
        for line in self._iter_lines():
            record = parse_line(self.source, 0, line) if line.strip() else None
            if record is not None and record.error is None:
                values.append(record.value)
            if len(values) >= limit:
                break
        return values

    def _iter_lines(self) -> Iterator[bytes]:
        if self.lines is not None:
            yield from self.lines
        elif self.byte_range is not None:
            start, end = self.byte_range
            with self.path.open("rb") as handle:
                handle.seek(start)
                while handle.tell() < end and (line := handle.readline()):
                    yield line

    @property
    def is_jsonl(self) -> bool:
        return self.row_groups is None

    def raw_lines(self) -> list[bytes]:
        """The chunk's lines as bytes (JSONL chunks only), blank lines included."""
        return self._lines()

    def read_table(self) -> pa.Table:
        """A Parquet chunk as an Arrow table."""
        if self.row_groups is None:
            raise ValueError("read_table is for Parquet chunks")
        return read_parquet(self.path, self.row_groups)

    def load(self) -> tuple[list[RawRecord], int]:
        """Records, with line numbers counted from 1 within the chunk, and the chunk's
        physical line (or row) count, blank lines included."""
        source = self.source
        if self.row_groups is not None:
            rows = read_parquet(self.path, self.row_groups).to_pylist()
            return [RawRecord(source, n, row) for n, row in enumerate(rows, start=1)], len(rows)
        lines = self._lines()
        records = [
            parse_line(source, n, line) for n, line in enumerate(lines, start=1) if line.strip()
        ]
        return records, len(lines)


def raw_text(line: bytes) -> str:
    """A line as it was written, as text: a byte that is not UTF-8 kept as \\xNN (it was
    lost to U+FFFD, and the line could not be recovered from the quarantine)."""
    return line.rstrip(b"\r\n").decode("utf-8", errors="backslashreplace")


def parse_line(source: str, number: int, line: bytes) -> RawRecord:
    try:
        # the line itself (no copy) is kept, so a row an adapter refuses is quarantined as
        # it was written, not as JSON written again
        return RawRecord(source, number, orjson.loads(line), line)
    except orjson.JSONDecodeError as exc:
        return RawRecord(source, number, None, line.rstrip(b"\r\n"), f"invalid JSON: {exc}")


def is_supported(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(JSONL_SUFFIXES) or name.endswith(PARQUET_SUFFIXES)


def first_line(path: Path) -> bytes:
    """The first non-blank line of a (possibly gzip) text file; empty if none or unreadable."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle):
                line = bytes(raw) if number else bytes(raw).removeprefix(BOM_UTF8)
                if line.strip():  # a BOM alone on the first line is a blank line
                    return line
    except (OSError, EOFError, zlib.error):
        return b""  # unreadable: reading it later names the problem
    return b""


@dataclass(frozen=True)
class Tail:
    """The part of a plain JSONL file still to read after it grew: bytes [start, stop),
    after the `line` lines read before them (so quarantined rows keep their numbers)."""

    start: int
    stop: int
    line: int


def reads_by_bytes(path: Path) -> bool:
    """Whether `path` is plain JSONL text, read in byte ranges (not Parquet, gzip or
    UTF-16): the files a Tail can resume."""
    if path.name.lower().endswith((*PARQUET_SUFFIXES, ".gz")):
        return False
    head = _head(path)
    return not head.startswith((GZIP_MAGIC, *WIDE_BOMS))


def _byte_range_chunks(path: Path, chunk_bytes: int, tail: Tail | None = None) -> Iterator[Chunk]:
    size = tail.stop if tail else path.stat().st_size
    with path.open("rb") as handle:
        # A UTF-8 byte order mark (Windows tools write one) is not part of the first record.
        start = len(BOM_UTF8) if handle.read(len(BOM_UTF8)) == BOM_UTF8 else 0
        if tail is not None and tail.start > 0:
            start = tail.start
        while start < size:
            handle.seek(min(start + chunk_bytes, size))
            handle.readline()  # run on to the end of the line the cut fell in
            end = min(handle.tell(), size) if start + chunk_bytes < size else size
            yield Chunk(path, byte_range=(start, end))
            start = end


_DECOMPRESS_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


def _gzip_chunks(path: Path, chunk_lines: int, chunk_bytes: int = CHUNK_BYTES) -> Iterator[Chunk]:
    """Chunks of lines, at most `chunk_lines` or about `chunk_bytes` of text (20,000 agent
    conversations of 22 KB held a gigabyte: the bytes bound memory, as for plain files);
    if the data breaks after some lines, those lines, then one broken chunk for the rest.
    A file that breaks before its first line is unreadable (raised)."""
    lines: list[bytes] = []
    done = size = 0
    with gzip.open(path, "rb") as handle:
        try:
            for line in handle:
                lines.append(line if done or lines else line.removeprefix(BOM_UTF8))
                size += len(line)
                if len(lines) >= chunk_lines or size >= chunk_bytes:
                    yield Chunk(path, lines=lines)
                    done, lines, size = done + len(lines), [], 0
        except _DECOMPRESS_ERRORS as exc:
            if not done and not lines:
                raise
            if lines:
                yield Chunk(path, lines=lines)
                done, lines = done + len(lines), []
            reason = f"file cut short after line {done}: {read_error(exc)}; the rest is lost"
            yield Chunk(path, lines=[b""], broken=reason)
    if lines:
        yield Chunk(path, lines=lines)


def _parquet_chunks(path: Path, chunk_lines: int) -> Iterator[Chunk]:
    metadata = pq.ParquetFile(path).metadata
    group: list[int] = []
    rows = 0
    for index in range(metadata.num_row_groups):
        group.append(index)
        rows += metadata.row_group(index).num_rows
        if rows >= chunk_lines:
            yield Chunk(path, row_groups=tuple(group), rows=rows)
            group, rows = [], 0
    if group:
        yield Chunk(path, row_groups=tuple(group), rows=rows)


def iter_chunks(path: Path, tail: Tail | None = None) -> Iterator[Chunk]:
    """Chunks of one file (of its `tail` only, when given and the file is plain JSONL); an
    unreadable or corrupt file is a UserError naming it."""
    name = path.name.lower()
    try:
        if name.endswith(PARQUET_SUFFIXES):
            yield from _parquet_chunks(path, CHUNK_LINES)
            return
        head = _head(path)
        if _gzipped(name, head):
            yield from _gzip_chunks(path, CHUNK_LINES)
        elif head.startswith(WIDE_BOMS):
            why = "UTF-16 or UTF-32 text, not UTF-8: convert it (iconv -t UTF-8)"
            yield Chunk(path, lines=[b""], broken=why)
        else:
            yield from _byte_range_chunks(path, CHUNK_BYTES, tail)
    except (OSError, EOFError, zlib.error, pa.ArrowException) as exc:
        raise UserError(f"cannot read {path}: {read_error(exc)}") from None


GZIP_MAGIC = b"\x1f\x8b"
# UTF-32 LE's mark begins with UTF-16 LE's: both are one line of the same advice
WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(4)


def is_gzip(path: Path) -> bool:
    """Whether ingest reads `path` as gzip (see _gzipped)."""
    return _gzipped(path.name.lower(), _head(path))


def _gzipped(name: str, head: bytes) -> bool:
    """Gzip by its (lower-cased) name, or by its first bytes: a .jsonl that is gzip too."""
    return name.endswith(".gz") or head.startswith(GZIP_MAGIC)


def read_error(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def iter_records(path: Path) -> Iterator[RawRecord]:
    """Records of one file, in order, with line numbers counted from the top of the file."""
    base = 0
    for chunk in iter_chunks(path):
        if chunk.broken is not None:
            yield RawRecord(chunk.source, base + 1, None, b"", chunk.broken)
            return
        records, lines = chunk.load()
        for record in records:
            yield dataclasses.replace(record, line=base + record.line)
        base += lines
