"""Run locks: which writer owns a folder, and whether it is still alive.

A lock is an exclusive `flock` on a file. The kernel releases it when its process dies,
however it dies (SIGKILL included), so "can I take this lock?" is exactly "is the writer
that staged here dead?": the next run recovers or removes what a dead run left, and never
touches the work of a live one.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from distillguard.errors import UserError


class RunLock:
    """An exclusive lock on `path`, held until `release` (or until the process dies)."""

    def __init__(self, path: Path, what: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle: IO[bytes] | None = path.open("a+b")
        try:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(self._handle)
            self._handle.close()
            self._handle = None
            raise UserError(f"{what} is in use by another run{holder}; wait for it") from None
        self._handle.truncate(0)
        self._handle.write(str(os.getpid()).encode())
        self._handle.flush()

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _holder(handle: IO[bytes]) -> str:
    handle.seek(0)
    pid = handle.read().decode(errors="replace").strip()
    return f" (process {pid})" if pid else ""


def lock_dir(path: Path) -> int:
    """Lock a folder that this run has just made, for as long as the run lives: the lock
    goes with the folder's inode, so it holds across renames. Returns the descriptor."""
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def is_abandoned(path: Path) -> bool:
    """True when nothing holds the lock on `path` (a lock file or a locked folder): its
    run is dead, or it was never locked."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops a lock we just took
    return True
