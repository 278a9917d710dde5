"""Every exchange the gateway serves, as exchange-log v1 JSON lines in rotated files.

A file is written as `*.jsonl.partial` and renamed to `*.jsonl` when it is rotated (by
rows or age) or the gateway stops, so `distillguard watch` and `ingest` only ever see
whole files. Each line is flushed as it is written: a crash loses no served exchange.
The writer holds a lock on its partial file; a log opened on the folder renames the
partial files no live writer holds (a gateway that crashed or was killed), so their
exchanges still reach the lake. Files are readable by their owner only: they hold
customers' prompts and answers.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from distillguard.store.lock import is_abandoned


class ExchangeLog:
    def __init__(self, directory: Path, max_rows: int = 10_000, max_age_s: float = 60.0) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.max_rows, self.max_age_s = max_rows, max_age_s
        self.rows_written = 0
        self._handle: IO[bytes] | None = None
        self._path: Path | None = None
        self._rows = 0
        self._opened = 0.0
        self._seq = 0
        self._lock = threading.Lock()
        self.recovered = recover_abandoned(directory)

    def _open(self) -> IO[bytes]:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self._seq += 1
        self._path = self.directory / f"exchanges-{stamp}-{os.getpid()}-{self._seq:05d}.jsonl"
        partial = self._path.parent / (self._path.name + ".partial")
        # Made under another name and locked before it is named *.partial: a log opened
        # on the folder meanwhile must not find it unlocked and take it for a dead one's.
        opening = partial.with_name(partial.name + ".opening")
        fd = os.open(opening, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # held until closed: this writer is alive
        opening.rename(partial)
        self._handle = os.fdopen(fd, "ab")
        self._rows, self._opened = 0, time.monotonic()
        return self._handle

    def write_one(self, row: dict[str, Any]) -> None:
        self.write_many([row])

    def write_many(self, rows: list[dict[str, Any]]) -> None:
        data = b"".join(orjson.dumps(r, option=orjson.OPT_UTC_Z) + b"\n" for r in rows)
        with self._lock:
            handle = self._handle or self._open()
            handle.write(data)
            handle.flush()
            self._rows += len(rows)
            self.rows_written += len(rows)
            if self._rows >= self.max_rows:
                self._rotate()

    def rotate_if_due(self) -> None:
        with self._lock:
            if self._handle and time.monotonic() - self._opened >= self.max_age_s:
                self._rotate()

    def _rotate(self) -> None:
        if self._handle is None or self._path is None:
            return
        partial = self._path.parent / (self._path.name + ".partial")
        partial.rename(self._path)  # while still locked: nobody takes it for a dead one's
        self._handle.close()
        self._handle = None

    def close(self) -> None:
        with self._lock:
            self._rotate()


def recover_abandoned(directory: Path) -> int:
    """Rename to `*.jsonl` the partial files in `directory` that no live writer holds;
    how many. A line cut short by the crash is quarantined by ingest like any bad row."""
    recovered = 0
    for partial in sorted(directory.glob("*.jsonl.partial")):
        if is_abandoned(partial):
            with contextlib.suppress(FileNotFoundError):  # another process took it first
                partial.rename(partial.with_name(partial.name.removesuffix(".partial")))
                recovered += 1
    return recovered
