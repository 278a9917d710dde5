"""Failures outside the user's input, said in one line: the file system and the database.

A full disk, a read-only lake or an `--out` that is a file are not bugs, and a traceback
does not tell the user what to do. Every write is atomic (store/atomic.py), so after such a
failure the previous state is intact, and the message says so.
"""

from __future__ import annotations

import errno

import duckdb

_HINTS = {
    errno.ENOSPC: "free some space and run again; nothing was half-written",
    errno.EDQUOT: "free some space and run again; nothing was half-written",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "check the permissions",
    errno.EPERM: "check the permissions",
    errno.ENOTDIR: "a file stands where a folder is needed",
    errno.EISDIR: "a folder stands where a file is needed",
    errno.EEXIST: "a file stands where a folder is needed",
}


def describe_os_error(exc: OSError) -> str:
    """`strerror: filename (hint)`, for the one-line error."""
    what = exc.strerror or str(exc) or type(exc).__name__
    where = f": {exc.filename}" if exc.filename else ""
    hint = _HINTS.get(exc.errno or 0)
    return f"{what[:1].lower()}{what[1:]}{where}" + (f" ({hint})" if hint else "")


def describe_database_error(exc: duckdb.Error) -> str:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    hint = " (free some space and run again)" if "space" in first.lower() else ""
    if damaged_file(exc):
        hint = " (a damaged Parquet file among the inputs: restore it, or remove it)"
    return f"DuckDB: {first}{hint}"


# What DuckDB says of a Parquet file that is cut short, garbled or not Parquet at all
# (seen by corrupting a real file 200 ways: its footer, its pages, its Thrift metadata).
_DAMAGED = (
    "too small to be a parquet file",
    "no magic bytes found",
    "not a parquet file",
    "footer length error",
    "failed to read file",
    "decompression failure",
    "corrupt",
    # Thrift, reading a garbled footer, names no file
    "tprotocolexception",
    "don't know what type",
    "invalid ttype",
    "out of buffer",
)


def damaged_file(exc: duckdb.Error) -> bool:
    """DuckDB refused a file it was given to read (a user's damaged file, not our SQL)."""
    text = str(exc).lower()
    return any(d in text for d in _DAMAGED)
