"""Atomic writes: nothing is visible under its final name until it is complete and on disk.

Every writer follows one recipe: write aside (a name readers skip), fsync the file, rename it
into place, fsync the directory. A rename within one filesystem is atomic, so a reader (or
a crash) sees the old state or the new one, never half of either. A folder is replaced
whole by swapping it with a fully written sibling (Linux renameat2 RENAME_EXCHANGE, one
atomic step; elsewhere two renames that `recover_swap` completes after a crash).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink in `path` durable (a no-op where directories can't be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename is still atomic
    finally:
        os.close(fd)


def aside(path: Path) -> Path:
    """A temporary sibling of `path`, hidden from readers: a leading dot, which DuckDB,
    pyarrow and Spark globs over `*.parquet` skip, and a `.partial` suffix."""
    return path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.partial"


def publish(temp: Path, target: Path) -> None:
    """Make a fully written `temp` visible as `target`, durably."""
    fsync_file(temp)
    temp.replace(target)
    fsync_dir(target.parent)


@contextlib.contextmanager
def written_aside(target: Path) -> Iterator[Path]:
    """A temporary path to write to; published as `target` only if the block completes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = aside(target)
    try:
        yield temp
        publish(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def write_bytes(target: Path, data: bytes) -> None:
    """`target` holds `data`, or (after a crash) what it held before."""
    with written_aside(target) as temp:
        temp.write_bytes(data)


def remove_partials(directory: Path) -> int:
    """Remove the temporary files a dead writer left in `directory` (not recursive)."""
    removed = 0
    for path in directory.glob(".*.partial"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step; False where the system can't."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not on this filesystem
        return False
    raise OSError(errno, os.strerror(errno), str(a))


def retired(path: Path) -> Path:
    """Where a replaced folder waits to be removed."""
    return path.parent / f".{path.name}.old"


def replace_dir(new: Path, target: Path) -> None:
    """Put the complete folder `new` in place of `target` (which may not exist), whole.

    After a crash `target` is either the old folder or the new one; if the fallback's
    two renames were cut between them, `recover_swap` puts the new one in place.
    """
    fsync_dir(new)
    if not target.exists():
        new.rename(target)
    elif _renameat2_exchange(new, target):
        new.rename(retired(target))  # `new` now holds the old folder
    else:
        old = retired(target)
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        new.rename(target)
    fsync_dir(target.parent)
    shutil.rmtree(retired(target), ignore_errors=True)


def recover_swap(new: Path, target: Path) -> None:
    """After a crash in `replace_dir`: finish a swap whose new folder was complete, and
    remove the retired old one."""
    old = retired(target)
    if not target.exists() and new.is_dir():
        new.rename(target)
    elif not target.exists() and old.is_dir():
        old.rename(target)
    shutil.rmtree(old, ignore_errors=True)
