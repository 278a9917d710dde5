"""The population's harvest reference: the window mean of log output per capability, up to
each hour's end, and each account-hour's excess over it."""

from __future__ import annotations

import math
from collections.abc import Sequence

import duckdb
import pytest

from distillguard.profiles.hourly import hourly_sql
from distillguard.profiles.population import harvest_reference_sql

# (account, hour, capability, output_tokens, reasoning_tokens)
ROWS = [
    ("a", 0, 0, 100, 0),
    ("b", 0, 0, 300, 100),
    ("a", 1, 1, 50, None),
    ("b", 2, 0, 1000, 3000),
    ("c", 3, 0, 10, 0),
    ("c", 3, None, 10, 0),
]


def _con(rows: Sequence[tuple[object, ...]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("""CREATE TABLE signals (account_id VARCHAR, ts TIMESTAMPTZ, capability BIGINT,
        output_tokens BIGINT, reasoning_tokens BIGINT)""")
    con.executemany(
        "INSERT INTO signals VALUES (?, TIMESTAMPTZ '2026-02-02 00:10:00+00' "
        "+ to_hours(?::BIGINT), ?, ?, ?)",
        rows,
    )
    return con


def _expected(hour: int, capability: int, window: int) -> float:
    logs = [
        math.log(1 + out + (reasoning or 0))
        for _, h, c, out, reasoning in ROWS
        if c == capability and hour - window < h <= hour
    ]
    return sum(logs) / len(logs)


@pytest.mark.parametrize("window", [1, 2, 3, 24])
def test_reference_is_the_window_mean_per_capability(window: int) -> None:
    got = (
        _con(ROWS)
        .sql(
            "SELECT hour(hour), capability, log_harvest_ref "
            f"FROM ({harvest_reference_sql('signals', window)})"
        )
        .fetchall()
    )
    assert len(got) == 5  # one per (hour, capability) with traffic, the null one included
    for hour, capability, ref in got:
        if capability is not None:
            assert ref == pytest.approx(_expected(hour, capability, window))


def test_reference_sees_only_data_up_to_its_hour() -> None:
    later = [*ROWS, ("d", 4, 0, 9000, 9000), ("d", 5, 1, 9000, 9000)]
    sql = (
        "SELECT hour(hour) AS h, capability, log_harvest_ref "
        f"FROM ({harvest_reference_sql('signals', 3)}) WHERE h <= 3 ORDER BY ALL"
    )
    assert _con(ROWS).sql(sql).fetchall() == _con(later).sql(sql).fetchall()


def test_account_hour_excess_is_the_sum_over_its_exchanges() -> None:
    con = _con(ROWS)
    for column in (
        "model VARCHAR",
        "ok BOOLEAN",
        "ip_prefix VARCHAR",
        "skeleton_fp BIGINT",
        "user_turns BIGINT",
        "n_tool_blocks BIGINT",
        "thinking_budget BIGINT",
    ):
        con.execute(f"ALTER TABLE signals ADD COLUMN {column}")
    for name in (
        "p_cot_elicitation",
        "p_trace_extraction",
        "p_rubric_grading",
        "p_text_grading",
        "p_censorship_rewrite",
    ):
        con.execute(f"ALTER TABLE signals ADD COLUMN {name} DOUBLE DEFAULT 0")
    got = dict(
        con.sql(
            "SELECT account_id || hour(hour), harvest_excess "
            f"FROM ({hourly_sql('signals', None, 2)})"
        ).fetchall()
    )
    assert got["b0"] == pytest.approx(math.log(401) - _expected(0, 0, 2))
    assert got["b2"] == pytest.approx(math.log(4001) - _expected(2, 0, 2))
    # c's exchange without a capability has no reference and adds nothing
    assert got["c3"] == pytest.approx(math.log(11) - _expected(3, 0, 2))
