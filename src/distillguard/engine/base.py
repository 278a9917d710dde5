"""The engine contract: the work that touches every exchange, behind one protocol.

Detection has three stages that read every row: the per-exchange signals, the hourly
partial aggregates per account, and the traffic keys per (account, hour) that linking codes.
Everything after them (window rows, scoring, the graph) reads those aggregates, which are far
smaller than the log, and runs on the driver in DuckDB whatever the engine. An engine fills
the driver's DuckDB connection with the aggregates; the replay never knows which one ran.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import duckdb
import numpy as np

from distillguard.errors import unknown_name_error
from distillguard.ingest.remote import LakeLike

Progress = Callable[[int], None]
SIGNALS_TABLE = "signals"
HOURLY_TABLE = "hourly"
KEYS_TABLE = "hour_keys"


@runtime_checkable
class Engine(Protocol):
    """One way of running the row-heavy stages. Implementations must give the same rows."""

    name: str

    def signals(self, lake: LakeLike, out: Path, progress: Progress | None = None) -> int:
        """Write the signals of every exchange of `lake` as a Parquet dataset in `out`
        (`out/*.parquet`); return the number of exchanges. A lake the engine cannot read
        where it lies (a URI, for the embedded engine) is a UserError."""

    def accounts(self, lake: LakeLike, scratch: Path) -> Path | None:
        """The lake's accounts table as a Parquet file on the driver (copied to `scratch`
        when the lake is remote), or None when the lake has none."""

    def attach(self, con: duckdb.DuckDBPyConnection, signals_dir: Path) -> str:
        """Make the signals dataset queryable in `con` (for the outputs and the report);
        return the table's name."""

    def hourly(
        self, con: duckdb.DuckDBPyConnection, signals_dir: Path, window_hours: int
    ) -> str | None:
        """Create the temp table `hourly` (one row per account and hour, the SUM_COLUMNS of
        profiles.hourly) in `con`; return the model released in the log, if any."""

    def hour_keys(
        self,
        con: duckdb.DuckDBPyConnection,
        signals_dir: Path,
        span: tuple[np.datetime64, np.datetime64],
        days: np.ndarray,
    ) -> None:
        """Create the temp table `hour_keys` (account_id, hour, kind, key) in `con` with the
        distinct traffic keys of every (account, hour) in the span [start, end); `days`
        (midnights) are the days in it that hold traffic, the only ones worth reading."""

    def close(self) -> None:
        """Release what the engine holds (a Spark session, say)."""


@dataclass(frozen=True)
class SignalSource:
    """A signals dataset and the engine that aggregates it: what the replay reads."""

    engine: Engine
    directory: Path


EngineFactory = Callable[[dict[str, str]], Engine]


def _duckdb(options: dict[str, str]) -> Engine:
    from distillguard.engine.duckdb_engine import DuckDBEngine

    return DuckDBEngine()


def _spark(options: dict[str, str]) -> Engine:
    from distillguard.engine.spark_engine import SparkEngine

    conf = {k: v for k, v in options.items() if k != "master"}
    return SparkEngine(master=options.get("master", "local[2]"), conf=conf)


ENGINES: dict[str, EngineFactory] = {"duckdb": _duckdb, "spark": _spark}


def get_engine(name: str, options: dict[str, str] | None = None) -> Engine:
    """The engine registered as `name`; an unknown name errors with the valid ones."""
    if name not in ENGINES:
        raise unknown_name_error("engine", name, list(ENGINES))
    return ENGINES[name](options or {})
