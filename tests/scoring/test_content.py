"""Content cohorts: sweep coverage, MinHash twins, profile kin and fingerprint sharers read
off a real linking window; every feature is a share, a rank or a count of accounts."""

from __future__ import annotations

import numpy as np
import pytest

from distillguard.errors import ConfigError
from distillguard.linking.codes import KeyCodes
from distillguard.linking.keys import KIND_CODE
from distillguard.linking.window import KeyWindow
from distillguard.scoring import content
from distillguard.scoring.content import (
    HOD,
    PROFILE_COUNTS,
    band_buckets,
    content_features,
    profile_buckets,
    signatures,
    sweep_features,
    twin_features,
)

T0 = np.datetime64("2026-03-02T00:00", "us")
HOUR = np.timedelta64(1, "h")


def _window(holdings: list[tuple[int, int, int]], kinds: list[str], accounts: int) -> KeyWindow:
    """A KeyWindow over (account code, key code, hour) rows, every hour added."""
    rows = sorted(holdings, key=lambda r: r[2])
    stride = len(kinds)
    pair_codes, pair = np.unique([a * stride + k for a, k, _ in rows], return_inverse=True)
    hour_of = np.array([h for *_, h in rows])
    starts = np.flatnonzero(np.r_[True, hour_of[1:] != hour_of[:-1]])
    empty = np.zeros(0, np.int64)
    codes = KeyCodes(
        accounts=np.array([f"a{i:03d}" for i in range(accounts)]),
        key_kind=np.array([KIND_CODE[k] for k in kinds], np.uint8),
        key_text={},
        pair_account=pair_codes // stride,
        pair_key=pair_codes % stride,
        hours=T0 + hour_of[starts] * HOUR,
        offsets=np.r_[starts, len(rows)],
        pairs=pair.reshape(-1),
        strong_account=empty,
        strong_key=empty,
        key_value=np.arange(len(kinds), dtype=np.int64) * 7919 + 13,
    )
    window = KeyWindow(codes)
    window.advance(T0, T0 + 100 * HOUR)
    return window


def _arrays(accounts: int, n: list[float]) -> dict[str, np.ndarray]:
    f: dict[str, np.ndarray] = {
        "account_id": np.array([f"a{i:03d}" for i in range(accounts)], dtype=object),
        "n": np.array(n),
        "rich_share": np.linspace(0, 1, accounts),
    }
    for name in (*PROFILE_COUNTS, *HOD):
        f[name] = np.ones(accounts)
    return f


def test_a_sweep_has_many_distinct_keys_and_no_repeats() -> None:
    # account 0 sends 4 prompts, each a key of its own; account 1 sends one key 4 times
    kinds = ["prompt_near"] * 6
    rows = [(0, k, k) for k in range(4)] + [(1, 5, h) for h in range(4)] + [(2, 0, 9)]
    window = _window(rows, kinds, 3)
    held = content.holdings(window, np.array(["a000", "a001", "a002"], dtype=object))
    sweep = sweep_features(held["content"], np.array([4.0, 4.0, 1.0]))
    assert sweep["content_repeat_share"].tolist() == [0.0, 1.0, 0.0]
    assert sweep["content_alone_share"].tolist() == [0.75, 1.0, 0.0]
    ranks = sweep["pct_content_per_exchange"]
    assert ranks[0] > ranks[1]


def test_holdings_keep_only_the_accounts_asked_for_in_their_order() -> None:
    window = _window([(0, 0, 0), (1, 0, 0), (2, 1, 1)], ["prompt_start"] * 2, 3)
    held = content.holdings(window, np.array(["a002", "a000"], dtype=object))["content"]
    assert sorted(zip(held["row"].tolist(), held["key"].tolist(), strict=True)) == [
        (0, 1),
        (1, 0),
    ]


def _held(sets: list[list[int]], degree: int = 3) -> dict[str, np.ndarray]:
    row = np.array([i for i, keys in enumerate(sets) for _ in keys], np.int64)
    key = np.array([k for keys in sets for k in keys], np.int64)
    return {
        "row": row,
        "key": key,
        "value": key * 7919 + 13,
        "hours": np.ones(len(key), np.int64),
        "degree": np.full(len(key), degree, np.int64),
    }


@pytest.mark.parametrize(
    ("name", "sets", "same"),
    [
        ("identical key sets", [[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]], True),
        ("disjoint key sets", [[1, 2, 3, 4, 5], [11, 12, 13, 14, 15]], False),
    ],
)
def test_minhash_buckets_put_one_distribution_together(
    name: str, sets: list[list[int]], same: bool
) -> None:
    buckets = band_buckets(signatures(_held(sets), len(sets)))
    assert bool((buckets[0] == buckets[1]).all()) is same, name


def test_signatures_are_minhash_of_the_shared_key_values_as_python_computes_it() -> None:
    # Rows out of order, and values past 2**63 (negative as int64), where uint64 wraps.
    sets = [[9, 2, 7, 40, 3], [5, 6, 7], [2**61 + 1, 2**62 + 3, 77, 9]]
    held = _held(sets)
    order = np.random.default_rng(1).permutation(len(held["row"]))
    held = {name: column[order] for name, column in held.items()}
    got = signatures(held, len(sets))
    a, b = (x.tolist() for x in (content._A, content._B))
    for row, keys in enumerate(sets):
        values = [(k * 7919 + 13) % 2**64 for k in keys]
        expected = [min(((v * a[j] + b[j]) % 2**64) >> 32 for v in values) for j in range(len(a))]
        assert got[row].tolist() == expected, row


@pytest.mark.parametrize("row", [-1, 2])
def test_holdings_of_rows_not_in_the_window_are_refused(row: int) -> None:
    held = _held([[1, 2, 3], [1, 2, 3]])
    held["row"][0] = row  # the compiled pass would write outside its table
    with pytest.raises(ConfigError, match=r"outside 0\.\.1"):
        signatures(held, 2)


def test_keys_held_alone_or_by_too_few_make_no_sketch() -> None:
    alone = band_buckets(signatures(_held([[1, 2, 3, 4], [1, 2, 3, 4]], degree=1), 2))
    short = band_buckets(signatures(_held([[1, 2], [1, 2]]), 2))
    assert (alone == -1).all() and (short == -1).all()


def test_twins_average_their_mates_not_themselves() -> None:
    f = _arrays(3, [10.0, 10.0, 10.0])
    buckets = np.array([[0, 0], [0, 0], [1, -1]])
    twins = twin_features(f, buckets, {"x": np.array([1.0, 3.0, 5.0])}, "twin")
    assert twins["twin_x"].tolist() == [3.0, 1.0, 0.0]
    assert twins["twin_log_count"].tolist() == [1.0, 1.0, 0.0]
    assert twins["twin_sync"][0] == pytest.approx(1.0) and twins["twin_sync"][2] == 0.0


def test_profile_buckets_are_relative_to_the_window() -> None:
    rng = np.random.default_rng(0)
    f = _arrays(200, rng.integers(5, 50, 200).astype(float).tolist())
    for name in (*PROFILE_COUNTS, *HOD):
        f[name] = rng.random(200) * f["n"]
    three_times = {k: (v * 3 if k != "account_id" else v) for k, v in f.items()}
    assert (profile_buckets(f) == profile_buckets(three_times)).all()
    twin = dict(f)
    for name in (*PROFILE_COUNTS, *HOD):
        twin[name] = f[name].copy()
        twin[name][1] = f[name][0] / f["n"][0] * f["n"][1]  # account 1 mixes as account 0
    assert (profile_buckets(twin)[0] == profile_buckets(twin)[1]).all()


def test_content_features_read_the_window_for_every_account() -> None:
    kinds = ["prompt_near"] * 8 + ["network"]
    fleet = [(a, k, a * 10 + k) for a in range(3) for k in range(6)]  # three share a sweep
    rows = [*fleet, (3, 7, 50), *[(a, 8, 60 + a) for a in range(3)]]
    window = _window(rows, kinds, 4)
    f = _arrays(4, [6.0, 6.0, 6.0, 1.0])
    features = content_features(f, window, np.full(4, 0.5), np.zeros(4))
    assert all(len(v) == 4 for v in features.values())
    assert tuple(features) == content.feature_names()
    assert features["twin_log_count"][:3] == pytest.approx([np.log2(3)] * 3)
    assert features["twin_log_count"][3] == 0.0
    assert features["pct_network_sharers"].tolist() == [0.625, 0.625, 0.625, 0.125]


def test_features_follow_key_values_not_the_codes_a_run_gave_them() -> None:
    # A later run codes the same keys differently (it holds other keys too): same features.
    kinds = ["prompt_near"] * 8
    rows = [(a, k, a * 10 + k) for a in range(3) for k in range(6)] + [(3, 7, 50)]
    f = _arrays(4, [6.0, 6.0, 6.0, 1.0])
    first = _window(rows, kinds, 4)
    moved = _window([(a, 7 - k, h) for a, k, h in rows], kinds, 4)
    values = moved.codes.key_value
    object.__setattr__(moved.codes, "key_value", values[::-1].copy())
    held = [content.holdings(w, f["account_id"])["content"] for w in (first, moved)]
    sketches = [signatures(h, 4) for h in held]
    assert (
        np.array_equal(sketches[0], sketches[1])
        and (sketches[0][:3] != np.iinfo(np.uint32).max).all()
    )
    before, after = (content_features(f, w, np.full(4, 0.5), np.zeros(4)) for w in (first, moved))
    assert all(np.array_equal(before[name], after[name]) for name in before)


def test_only_a_model_that_reads_content_features_needs_them() -> None:
    assert content.needed(("pct_volume", "kin_pct_harvest"))
    assert not content.needed(("pct_volume", "cluster_sync"))
