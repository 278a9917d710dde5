"""DuckDB connections that read time in UTC, whatever the machine's zone.

DuckDB takes its session time zone from the machine. On a machine set to Asia/Kolkata,
`date_trunc('hour', ts)` cut the log at half past each UTC hour and `hour(ts)` gave the
local hour, so the same log gave other hourly profiles, hour-of-day features, scores and
flags than on a machine set to UTC (on a 721-account world: 570 scores and 2 flags
differed), and the thresholds were fit in UTC. Every connection the project opens comes
from here. The zone is set GLOBAL because a cursor does not inherit a session setting.
"""

from __future__ import annotations

import duckdb

from distillguard.errors import UserError
from distillguard.store.interrupts import track


def connect_utc(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (in memory, or the file `database`) whose times are UTC."""
    con = duckdb.connect(database)
    con.execute("SET GLOBAL TimeZone = 'UTC'")
    track(con)  # a stop signal interrupts its queries (store/interrupts.py)
    return con


def connect_or_say(database: str, locked: str) -> duckdb.DuckDBPyConnection:
    """`connect_utc`, or a one-line error: `locked` where another process holds the file,
    and another where the file is not a DuckDB database.

    DuckDB's own lock message names the holder's PID and file lock, which tells a user of
    a server started twice neither what to stop nor which option picks another file. And
    DuckDB opens an existing .json, .csv or .parquet file as a read-only view in memory:
    a store given a bundle's path kept what it was sent in memory and lost it at the stop.
    """
    try:
        con = connect_utc(database)
    except duckdb.IOException as exc:
        if "not a valid DuckDB database" in str(exc):
            raise UserError(_not_duckdb(database)) from None
        if "lock" not in str(exc).lower():
            raise
        raise UserError(locked) from None
    if database != ":memory:" and _in_memory(con):
        con.close()
        raise UserError(_not_duckdb(database))
    return con


def _in_memory(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's own database has no file behind it."""
    ((file,),) = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return file is None


def _not_duckdb(database: str) -> str:
    return (
        f"{database} is not a DuckDB database file, which this store is: give the path of "
        "one, or of a file that does not exist yet"
    )
