"""What a watch tick reads of its inbox: new files, and the new rows of files that grew.

A log shipper appends to a daily file all day. Reading it whole at every tick made a tick's
cost grow with the day (and quarantined a line caught half written, which the next tick
then read whole). For plain JSONL, watch keeps how far each file was read, at a line's
end, and the next tick reads from there: the rows appended since, up to the last complete
line. A last line without its newline waits until a tick finds the file unchanged, then
it is read as it is (a file that simply ends without one). Gzip and Parquet files cannot
be read from the middle: a grown one is read whole again, and ingest drops the rows it
holds already. A file that is not the one read before (another inode, other first or last
bytes before where the last tick stopped: rotated by rename or by copy and truncate), that
shrank, or that no longer has a line's end there, is read from the top.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from distillguard.ingest.sources import Tail, reads_by_bytes

BLOCK = 1 << 16
MARK_BYTES = 4096


@dataclass(frozen=True)
class Seen:
    """A file as the last tick left it: its size and time then ("size:mtime_ns"; None when
    it was gone), and for plain JSONL how many bytes and lines were read."""

    stamp: str | None
    read_to: int | None = None
    lines: int = 0
    mark: str | None = None  # which file was read that far (see _mark)

    def to_json(self) -> Any:
        if self.read_to is None:
            return self.stamp  # the format of versions that kept stamps only
        return {"stamp": self.stamp, "read_to": self.read_to, "lines": self.lines,
                "mark": self.mark}  # fmt: skip

    @classmethod
    def of(cls, value: Any) -> Seen:
        if isinstance(value, dict):
            read_to, lines = int(value["read_to"]), int(value.get("lines", 0))
            return cls(value.get("stamp"), read_to, lines, value.get("mark"))
        return cls(value)


@dataclass(frozen=True)
class Reading:
    """One file a tick reads: whole (tail None) or from where the last one stopped."""

    path: Path
    tail: Tail | None


Planned = tuple[Reading | None, Seen | None]  # what to read, and what to remember after


def stamp(path: Path) -> str:
    return _stamp(path.stat())


def _stamp(st: os.stat_result) -> str:
    return f"{st.st_size}:{st.st_mtime_ns}"


def plan(path: Path, seen: Seen | None) -> Planned:
    """What to read of `path` this tick (None: nothing) and what to remember of it after
    (None: what is remembered stands)."""
    if not reads_by_bytes(path):
        now = stamp(path)
        if seen is not None and seen.read_to is None and seen.stamp in (None, now):
            return None, None  # unchanged since read whole (or gone when a list was kept)
        return Reading(path, None), Seen(now)
    with path.open("rb") as handle:  # one open serves every look at the file this tick
        return _plan_tail(path, handle, seen)


def _plan_tail(path: Path, handle: BinaryIO, seen: Seen | None) -> Planned:
    st = os.fstat(handle.fileno())
    now = _stamp(st)
    if seen is not None and seen.read_to is None and seen.stamp in (None, now):
        return None, None  # read whole by a version that kept stamps only, unchanged
    unchanged = seen is not None and seen.stamp == now
    start, lines = 0, 0
    if (
        seen is not None
        and seen.read_to is not None
        and (unchanged or _same_file(handle, st, seen.read_to, seen.mark))
    ):
        start, lines = seen.read_to, seen.lines
    stop = st.st_size if unchanged else _after_last_newline(handle, start, st.st_size)
    if stop <= start:
        return None, (None if unchanged else Seen(now, start, lines, _mark(handle, st, start)))
    read = Seen(now, stop, lines + _lines(handle, start, stop), _mark(handle, st, stop))
    return Reading(path, Tail(start, stop, lines)), read


def _same_file(handle: BinaryIO, st: os.stat_result, read_to: int, mark: str | None) -> bool:
    """Whether the open file is still the one the last tick read, grown: the same file on
    disk with the same first and last bytes up to where it stopped, and a line's end there.
    A log rotated by renaming it away (a new file at the name) or by copying and truncating
    it (the same file, new rows) is not, though rows of one length put a newline there."""
    if mark is not None and mark != _mark(handle, st, read_to):
        return False
    return _ends_a_line(handle, read_to, st.st_size)


def _mark(handle: BinaryIO, st: os.stat_result, read_to: int) -> str:
    """The file's device and inode, and a hash of its first and last 4 KB before
    `read_to`: what tells a grown file from a replaced one."""
    handle.seek(0)
    head = handle.read(min(MARK_BYTES, read_to))
    handle.seek(max(0, read_to - MARK_BYTES))
    tail = handle.read(min(MARK_BYTES, read_to))
    digest = hashlib.blake2b(head + b"|" + tail, digest_size=8).hexdigest()
    return f"{st.st_dev}:{st.st_ino}:{digest}"


def _ends_a_line(handle: BinaryIO, read_to: int, size: int) -> bool:
    """Whether the file still has a newline just before `read_to`: otherwise it shrank or
    was written again (or its unfinished last line, read as it was, went on), and it is
    read from the top, ingest dropping the rows it holds."""
    if read_to == 0:
        return True
    if read_to > size:
        return False
    handle.seek(read_to - 1)
    return handle.read(1) == b"\n"


def _after_last_newline(handle: BinaryIO, start: int, stop: int) -> int:
    """The byte after the last newline in [start, stop), or start when there is none."""
    end = stop
    while end > start:
        begin = max(start, end - BLOCK)
        handle.seek(begin)
        found = handle.read(end - begin).rfind(b"\n")
        if found >= 0:
            return begin + found + 1
        end = begin
    return start


def _lines(handle: BinaryIO, start: int, stop: int) -> int:
    """The lines in [start, stop) as ingest counts them: a last one without its newline too."""
    count, last = 0, b"\n"
    handle.seek(start)
    left = stop - start
    while left > 0:
        block = handle.read(min(BLOCK, left))
        if not block:
            break
        count += block.count(b"\n")
        last, left = block[-1:], left - len(block)
    return count + (last != b"\n")
