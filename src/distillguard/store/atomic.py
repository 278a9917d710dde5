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


def replace_dir(new: Path, target: Path) -> None:
    """Put the complete folder `new` in place of `target` (which may not exist), whole, and
    remove the old one.

    Where the atomic swap is not available, `target` is renamed to `new` + ".old" and `new`
    to `target`; a crash between the two leaves no `target`, and `recover_dir` finishes it.
    """
    fsync_dir(new)
    if not target.exists():
        new.rename(target)
        fsync_dir(target.parent)
        return
    if not _renameat2_exchange(new, target):  # `new` now holds the old folder
        old = old_sibling(new)
        target.rename(old)
        new.rename(target)
        new = old
    fsync_dir(target.parent)
    shutil.rmtree(new, ignore_errors=True)


def old_sibling(new: Path) -> Path:
    """Where `replace_dir` parks the old folder when it cannot swap atomically."""
    return new.with_name(new.name + ".old")


def recover_dir(new: Path, target: Path, complete: bool) -> None:
    """After a crash while `new` was being written or swapped in: put it in place if it was
    complete and `target` is missing (the swap was cut between its renames), else drop it;
    and drop the old folder parked beside it."""
    old = old_sibling(new)
    if complete and not target.exists() and new.is_dir():
        new.rename(target)
    elif not target.exists() and old.is_dir():
        old.rename(target)
    shutil.rmtree(new, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    fsync_dir(target.parent)
