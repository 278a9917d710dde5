"""The embedded default: verdicts as an append-only JSON-lines log on local disk.

The log is the audit log: every change is one line, and the state is the log replayed.
Writers (the CLI, `watch`, the console) append under an exclusive lock; readers (running
gateways) check the file's size and mtime on each read and replay only the new bytes, so
a read costs one `stat` unless something changed, and never waits on a writer. A line
that is not a valid change is skipped and counted, never fatal.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson

from distillguard.errors import UserError
from distillguard.folders import check_folder
from distillguard.verdicts.model import Source, Verdict, effective, now
from distillguard.verdicts.store import Change, StoreFileError

log = logging.getLogger(__name__)


class FileStore:
    """A verdict log at `path`, replayed incrementally by readers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_dir():
            raise UserError(f"verdict state {path} is a directory; give a file path")
        # A mistyped folder made itself: the gateway then enforced an empty store and an
        # analyst's block went where no gateway looked. The folder must be there already.
        check_folder(path, "verdict store")
        if not path.exists():
            log.warning("verdict store %s: a new, empty store (no file was there)", path)
        path.touch(mode=0o600, exist_ok=True)  # account ids and analysts' reasons: owner only
        _check_is_log(path)
        self.corrupt_rows = 0
        self._by_key: dict[str, dict[str, Verdict]] = {}
        self._changes: list[Change] = []
        self._offset = 0
        self._lines = 0  # lines read up to _offset, so a bad row's line number can be said
        self._seen: tuple[int, int] = (-1, -1)
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        with _store_io():  # a lost mount fails the stat itself (ESTALE, EIO)
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                st = None
        mark = (st.st_size, st.st_mtime_ns) if st else (0, 0)
        if mark == self._seen:
            return
        with self._lock, _store_io():
            self._replay(mark)

    def _replay(self, mark: tuple[int, int]) -> None:
        if mark[0] < self._offset:  # replaced or truncated: start again
            self._by_key, self._changes, self._offset, self.corrupt_rows = {}, [], 0, 0
            self._lines = 0
        with self.path.open("rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        complete = data.rfind(b"\n") + 1  # a writer's half-written last line waits
        for number, line in enumerate(data[:complete].splitlines(), start=self._lines + 1):
            self._apply_line(number, line)
            self._lines = number
        self._offset += complete
        self._seen = mark if complete == len(data) else (-1, -1)

    def _apply_line(self, number: int, line: bytes) -> None:
        if not line.strip():
            return
        try:
            change = Change.from_json(orjson.loads(line))
        except (ValueError, TypeError, KeyError) as exc:
            self.corrupt_rows += 1
            log.warning("verdict log %s line %d: skipped a corrupt row (%s)", self.path, number,
                        _why_corrupt(exc))  # fmt: skip
            return
        self._changes.append(change)
        sources = dict(self._by_key.get(change.key, {}))
        if change.op == "set" and change.verdict is not None:
            sources[change.verdict.source] = change.verdict
        else:
            for s in [s for s in sources if change.source in (None, s)]:
                del sources[s]
        self._by_key[change.key] = sources

    def _append(self, change: Change) -> None:
        line = orjson.dumps(change.to_json()) + b"\n"
        with _store_io():
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)  # reads its end
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                _append_whole(fd, _after_any_cut_line(fd) + line)
            finally:
                os.close(fd)  # closing releases the lock

    def get(self, key: str) -> Verdict | None:
        self._refresh()
        found = self._by_key.get(key)
        return effective(list(found.values()), now()) if found else None

    def set(self, verdict: Verdict) -> None:
        self._append(Change("set", verdict.key, now(), verdict, verdict.source))

    def clear(self, key: str, source: Source | None = None) -> int:
        self._refresh()
        present = [s for s in self._by_key.get(key, {}) if source in (None, s)]
        self._append(Change("clear", key, now(), None, source))
        return len(present)

    def list(self) -> builtins.list[Verdict]:
        self._refresh()
        at = now()
        found = (effective(list(v.values()), at) for _, v in sorted(self._by_key.items()))
        return [v for v in found if v is not None]

    def audit(self) -> builtins.list[Change]:
        self._refresh()
        return list(self._changes)

    def close(self) -> None:
        """Nothing held open between calls."""


def _check_is_log(path: Path) -> None:
    """Refuse a file whose first line is not shaped as a verdict change (an accounts
    table, a Parquet file): its rows would be skipped one by one, and set would append to
    it. A change that is only corrupt (an op and a key) is still skipped and counted."""
    with path.open("rb") as handle:
        first = handle.readline(1 << 16)
    try:
        row = orjson.loads(first) if first.strip() else {"op": "", "key": ""}
    except orjson.JSONDecodeError:
        row = None
    if not (isinstance(row, dict) and "op" in row and "key" in row):
        raise UserError(f"{path} is not a verdict log: its first line is not a verdict change")


@contextlib.contextmanager
def _store_io() -> Iterator[None]:
    """The log's own reads and writes: an OSError there is the store's (StoreFileError),
    which `watch` survives and publishes again at its next tick."""
    try:
        yield
    except StoreFileError:
        raise
    except OSError as exc:
        raise StoreFileError.of(exc) from exc


def _after_any_cut_line(fd: int) -> bytes:
    """A newline when the log ends inside a line (a writer killed by another program, a
    copy cut short): glued to it, the new change would be skipped as corrupt with it, and
    a block set by an analyst would never take effect. The cut line stays, skipped alone."""
    size = os.fstat(fd).st_size
    return b"\n" if size and os.pread(fd, 1, size - 1) != b"\n" else b""


def _append_whole(fd: int, line: bytes) -> None:
    """Write all of `line` at the end, or nothing: a short write is continued, and a
    failed one (a full disk) is cut off again, so a half line never joins the next one
    (the lock is held, so the end is still ours)."""
    start = os.fstat(fd).st_size
    written = 0
    try:
        while written < len(line):
            written += os.write(fd, line[written:])
    except OSError:
        if written:
            os.ftruncate(fd, start)
        raise


def _why_corrupt(exc: Exception) -> str:
    """What is wrong with a row, in words: orjson's "line 1 column 42" counts within the
    row, and a KeyError said only the field's name."""
    if isinstance(exc, orjson.JSONDecodeError):
        return "not JSON: cut short or mangled"
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r} field"
    return str(exc)
