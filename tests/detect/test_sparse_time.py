"""The replay follows the data, not the calendar: a lake with stray rows in 1960 and 9999
is a handful of hours to replay, not eighty centuries of them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import orjson
import pytest

from distillguard.detect import schedule
from distillguard.detect.config import DetectConfig
from distillguard.detect.run import detect
from distillguard.ingest import ingest
from distillguard.ingest.plausible import TimeWindow
from tests.samples import exchange_row

STAMPS = (
    "1960-03-01T10:15:00Z",
    "1960-03-01T11:20:00Z",
    "2026-02-10T13:00:00Z",
    "2026-02-10T13:30:00Z",
    "2026-02-11T09:00:00Z",
    "9999-12-30T22:00:00Z",
)


def test_a_lake_spanning_centuries_replays_only_its_hours(tmp_path: Path) -> None:
    rows = [exchange_row(i, ts=ts) for i, ts in enumerate(STAMPS * 3)]
    for i, row in enumerate(rows):
        row["request_id"] = f"req-sparse-{i}"
    source = tmp_path / "log.jsonl"
    source.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    # Ingest quarantines such times by default; a lake can still hold them (an older lake,
    # or a window a user widened), and detect must not walk the calendar between them.
    wide = TimeWindow.around(
        earliest=datetime(1900, 1, 1, tzinfo=UTC), latest=datetime(9999, 12, 31, 23, tzinfo=UTC)
    )
    lake = tmp_path / "lake"
    ingest([source], lake, window=wide)
    started = time.perf_counter()
    summary = detect([lake], tmp_path / "out", config=DetectConfig(decide_by="rules"))
    assert time.perf_counter() - started < 120  # a calendar walk would never end
    assert summary.exchanges == len(rows)
    assert {a.account_id for a in summary.accounts} == {r["account_id"] for r in rows}


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ([], []),
        (["2026-01-01T00"], ["2026-01-01T06"]),
        (["2026-01-01T00", "2026-01-01T05"], ["2026-01-01T06"]),
        (
            ["2026-01-01T00", "2026-01-01T06", "2026-01-03T01"],
            ["2026-01-01T06", "2026-01-01T12", "2026-01-03T06"],
        ),
        (["1960-01-01T00", "9999-01-01T00"], ["1960-01-01T06", "9999-01-01T06"]),
    ],
)
def test_ticks_fall_only_after_steps_with_traffic(hours: list[str], expected: list[str]) -> None:
    got = schedule.ticks(
        np.array(hours, dtype="datetime64[h]").astype("datetime64[us]"), np.timedelta64(6, "h")
    )
    assert (
        got.tolist() == np.array(expected, dtype="datetime64[h]").astype("datetime64[us]").tolist()
    )


def test_runs_cover_every_tick_once() -> None:
    hours = np.arange(
        np.datetime64("2026-01-01T00"), np.datetime64("2026-02-20T00"), np.timedelta64(1, "h")
    ).astype("datetime64[us]")
    hours = np.concatenate([hours, np.array(["9999-01-01T00"], dtype="datetime64[us]")])
    config = DetectConfig(run_windows=1)
    runs = schedule.runs(hours, config)
    ticks = np.concatenate(runs)
    assert len(ticks) == len(np.unique(ticks)) == len(schedule.ticks(hours, np.timedelta64(6, "h")))
    assert all(len(r) >= 168 // 6 for r in runs[:-1])


def test_hours_without_a_time_are_not_visited() -> None:
    """Rows of no time (files ingest did not write, under a lake's folder) made the list
    of hours hold None, and the replay a TypeError."""
    con = duckdb.connect()
    con.execute("CREATE TABLE hourly AS SELECT * FROM (VALUES (NULL::TIMESTAMP), "
                "('2026-01-01 05:00'::TIMESTAMP), (NULL)) t(hour)")  # fmt: skip
    assert schedule.data_hours(con).tolist() == [datetime(2026, 1, 1, 5)]
    con.execute("DELETE FROM hourly WHERE hour IS NOT NULL")
    assert schedule.data_hours(con).size == 0
