"""When the replay ticks: the hours that hold traffic, the linking ticks among them, and
the runs the ticks are replayed in. The cost follows the data, not the calendar."""

from __future__ import annotations

import duckdb
import numpy as np

from distillguard.detect.config import DetectConfig


def data_hours(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """The hours that hold traffic, in order: the replay visits these, not the calendar
    between the first and the last (a log with a stray row in 1960 and one in 9999 holds
    a few hours, not eighty centuries of them)."""
    ((hours,),) = con.sql(  # no hour: rows without a time, in files ingest did not write
        "SELECT coalesce(list(DISTINCT epoch_us(hour) ORDER BY epoch_us(hour))"
        " FILTER (WHERE hour IS NOT NULL), []) FROM hourly"
    ).fetchall()
    return np.asarray(hours, dtype=np.int64).astype("datetime64[us]")


def ticks(hours: np.ndarray, step: np.timedelta64) -> np.ndarray:
    """The linking ticks: the end of every step (counted from the first hour with traffic)
    that holds traffic. A step without any new traffic changes nobody's evidence, so it
    gets no tick: the cost follows the data, not the calendar."""
    if len(hours) == 0:
        return hours
    steps = np.unique((hours - hours[0]) // step)
    return np.asarray(hours[0] + (steps + 1) * step)


def runs(hours: np.ndarray, config: DetectConfig) -> list[np.ndarray]:
    """The linking ticks of the hours with traffic, in runs `config.run_windows` windows of
    ticks long.

    Each run's window rows and key codes cover that run and the window before it, so the
    replay holds at most run_windows + 2 windows of them however long the log is (a last run
    shorter than a window joins the run before it). The window before a run is scored and
    coded twice, which costs a long log about 1 / run_windows more and a log no longer than
    a run nothing.
    """
    if len(hours) == 0:
        return []
    linking = ticks(hours, np.timedelta64(config.cluster_every_hours, "h"))
    per_window = -(-config.window_hours // config.cluster_every_hours)
    starts = list(range(0, len(linking), config.run_windows * per_window))
    if len(starts) > 1 and len(linking) - starts[-1] < per_window:
        starts.pop()  # a last run shorter than a window joins the one before it
    return [linking[a:b] for a, b in zip(starts, [*starts[1:], len(linking)], strict=True)]
