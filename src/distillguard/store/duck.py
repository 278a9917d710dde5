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


def connect_utc(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (in memory, or the file `database`) whose times are UTC."""
    con = duckdb.connect(database)
    con.execute("SET GLOBAL TimeZone = 'UTC'")
    return con
