"""The moving key window: adding hours in a batch equals adding them one by one, and the
running counts give the same weighted keys as recounting the window from its rows."""

from __future__ import annotations

from collections import Counter

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from distillguard.errors import ConfigError
from distillguard.linking.codes import KeyCodes, key_codes
from distillguard.linking.keys import KIND_CODE
from distillguard.linking.window import KeyWindow

T0 = np.datetime64("2026-02-02T00:00", "us")
HOUR = np.timedelta64(1, "h")


def _codes(seed: int = 0) -> tuple[KeyCodes, pa.Table]:
    """40 accounts over 48 hours, each hour a few of them holding network and prompt keys;
    sign-up cards shared in threes."""
    rng = np.random.default_rng(seed)
    rows = {
        (f"acct_{rng.integers(40):02d}", int(h), int(kind), int(rng.integers(15)))
        for h in range(48)
        for kind in (KIND_CODE["network"], KIND_CODE["prompt_start"])
        for _ in range(6)
    }
    account, hour, kind, key = zip(*sorted(rows), strict=True)
    hour_keys = pa.table(
        {
            "account_id": list(account),
            "hour": pa.array(T0 + np.asarray(hour) * HOUR).cast(pa.timestamp("us", tz="UTC")),
            "kind": pa.array(kind, pa.uint8()),
            "key": pa.array(key, pa.int64()),
        }
    )
    accounts = pa.table(
        {
            "account_id": [f"acct_{i:02d}" for i in range(40)],
            "payment_fingerprint": [f"pm_{i // 3}" for i in range(40)],
            "signup_ip": [None] * 40,
            "created_at": pa.array([None] * 40, pa.timestamp("us", tz="UTC")),
        }
    )
    con = duckdb.connect()
    con.register("hour_keys", hour_keys)
    con.register("accounts", accounts)
    return key_codes(con, "hour_keys", "accounts"), hour_keys


def test_batch_equals_loop() -> None:
    codes, _ = _codes()
    one, many = KeyWindow(codes), KeyWindow(codes)
    hours = codes.slices(T0, T0 + 48 * HOUR)
    for hour in hours[:30]:
        one.update_one(hour)
    many.update_many(hours[:30])
    for window in (one, many):
        window.expire_before(T0 + 10 * HOUR)
    for left, right in zip(one.state(), many.state(), strict=True):
        np.testing.assert_array_equal(left, right)


def test_running_counts_match_a_recount() -> None:
    codes, rows = _codes(seed=1)
    window = KeyWindow(codes)
    for end in range(6, 49, 6):
        start = max(end - 24, 0)
        window.advance(T0 + start * HOUR, T0 + end * HOUR)
        got = window.weighted(max_degree=200)
        held = Counter(
            (codes.accounts[a], codes.key_kind[k], d)
            for a, k, d in zip(got.account, got.key, got.degree, strict=True)
        )
        assert held == _recount(rows, start, end)


def _recount(rows: pa.Table, start: int, end: int) -> Counter[tuple[str, int, int]]:
    """The window's (account, kind, degree) holdings of keys 2 to the cap accounts hold,
    cards included, straight from the rows."""
    hours = (rows["hour"].cast(pa.timestamp("us")).to_numpy() - T0) // HOUR
    inside = (hours >= start) & (hours < end)
    holdings = {
        (a, int(k), int(v))
        for a, k, v in zip(
            np.asarray(rows["account_id"])[inside],
            rows["kind"].to_numpy()[inside],
            rows["key"].to_numpy()[inside],
            strict=True,
        )
    }
    active = {a for a, _, _ in holdings}
    holdings |= {(a, KIND_CODE["card"], int(a[5:]) // 3) for a in active}
    degree = Counter((k, v) for _, k, v in holdings)
    caps = {KIND_CODE["network"]: 30, KIND_CODE["prompt_start"]: 12, KIND_CODE["card"]: 200}
    return Counter((a, k, degree[k, v]) for a, k, v in holdings if 2 <= degree[k, v] <= caps[k])


def test_hours_out_of_order_raise() -> None:
    codes, _ = _codes()
    window = KeyWindow(codes)
    hours = codes.slices(T0, T0 + 48 * HOUR)
    window.update_one(hours[5])
    before = window.state()
    with pytest.raises(ConfigError, match="time order"):
        window.update_many([hours[6], hours[2]])
    for left, right in zip(before, window.state(), strict=True):
        np.testing.assert_array_equal(left, right)
    window.update_one(hours[6])  # the failed batch left nothing behind


def test_no_keys_gives_an_empty_window() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE hour_keys (account_id VARCHAR, hour TIMESTAMPTZ, kind UTINYINT, key BIGINT)"
    )
    codes = key_codes(con, "hour_keys", None)
    window = KeyWindow(codes)
    window.advance(T0, T0 + 24 * HOUR)
    assert len(codes.hours) == 0 and len(window.weighted(max_degree=200).account) == 0
