"""Account links: the pair weights DuckDB computes equal the definition, pair by pair."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from distillguard.linking.codes import KeyCodes, renumbered
from distillguard.linking.graph import WEAK_SCALE, Links, links
from distillguard.linking.window import WeightedKeys

Row = tuple[int, int, bool, float]  # account code, key code, strong, key weight


def _weighted(rows: list[Row]) -> WeightedKeys:
    account, key, strong, weight = (np.asarray(c) for c in zip(*rows, strict=True))
    return WeightedKeys(account, key, strong.astype(bool), np.ones(len(rows)), weight)


def _by_definition(rows: list[Row], min_link: float) -> dict[tuple[int, int], float]:
    """Strong keys add their weights; weak keys add a weighted Ochiai overlap."""
    held = {(a, k): (s, w) for a, k, s, w in rows}
    accounts = sorted({a for a, *_ in rows})
    total = {a: sum(w for (b, _), (s, w) in held.items() if b == a and not s) for a in accounts}
    out = {}
    for a, b in itertools.combinations(accounts, 2):
        keys_a = {k for (x, k) in held if x == a}
        shared = [held[(a, k)] for k in keys_a if (b, k) in held]
        if not shared:
            continue
        strong = sum(w for s, w in shared if s)
        weak = sum(w for s, w in shared if not s)
        norm = math.sqrt(max(total[a], 1e-9) * max(total[b], 1e-9))
        weight = strong + WEAK_SCALE * weak / norm
        if weight >= min_link:
            out[(a, b)] = weight
    return out


def _computed(rows: list[Row], min_link: float) -> dict[tuple[int, int], float]:
    """links() on these holdings; accounts are named by their codes, zero-padded so that
    names sort as codes do."""
    n = max(a for a, *_ in rows) + 1
    empty = np.zeros(0, np.int64)
    codes = KeyCodes(
        accounts=np.array([f"a{i:04d}" for i in range(n)]),
        key_kind=np.zeros(0, np.uint8),
        key_text={k: f"card:{k}" for _, k, strong, _ in rows if strong},
        pair_account=empty,
        pair_key=empty,
        hours=np.zeros(0, "datetime64[us]"),
        offsets=np.zeros(1, np.int64),
        pairs=empty,
        strong_account=empty,
        strong_key=empty,
    )
    found = links(_weighted(rows), codes, min_link)
    triples = zip(found.src.tolist(), found.dst.tolist(), found.weight.tolist(), strict=True)
    return {(int(a[1:]), int(b[1:])): w for a, b, w in triples}


CASES = [
    ("one shared card", [(0, 1, True, 0.6), (1, 1, True, 0.6), (2, 2, True, 0.6)], 0.5),
    ("card below the line", [(0, 1, True, 0.3), (1, 1, True, 0.3)], 0.5),
    (
        "weak overlap is normalised by each side's weak total",
        [(0, 5, False, 0.2), (1, 5, False, 0.2), (0, 6, False, 0.2), (0, 7, False, 0.2)],
        0.1,
    ),
    (
        "strong and weak add",
        [(3, 1, True, 0.4), (4, 1, True, 0.4), (3, 9, False, 0.1), (4, 9, False, 0.1)],
        0.5,
    ),
    ("no shared key", [(0, 1, True, 1.0), (1, 2, False, 1.0)], 0.0),
]


@pytest.mark.parametrize(("name", "rows", "min_link"), CASES, ids=[c[0] for c in CASES])
def test_each_case_weighs_as_defined(name: str, rows: list[Row], min_link: float) -> None:
    got = _computed(rows, min_link)
    expected = _by_definition(rows, min_link)
    assert got.keys() == expected.keys(), name
    assert all(math.isclose(got[p], expected[p]) for p in got), name


def test_random_holdings_weigh_as_defined() -> None:
    rng = np.random.default_rng(4)
    weights = rng.uniform(0.05, 1.0, 60)
    rows = sorted(
        {
            (int(a), int(k), bool(k < 15), float(weights[k]))
            for a, k in zip(rng.integers(0, 50, 400), rng.integers(0, 60, 400), strict=True)
        }
    )
    got = _computed(rows, 0.4)
    expected = _by_definition(rows, 0.4)
    assert len(expected) > 20
    assert got.keys() == expected.keys()
    assert all(math.isclose(got[p], expected[p]) for p in got)


RENUMBER_CASES = [
    ("empty", [], 4),
    ("one code", [3], 4),
    ("repeats in any order", [5, 1, 5, 0, 1, 1], 6),
    ("every code", [2, 0, 1], 3),
    ("gaps", [9, 4, 9, 7], 10),
]


@pytest.mark.parametrize(
    ("name", "codes", "size"), RENUMBER_CASES, ids=[c[0] for c in RENUMBER_CASES]
)
def test_renumbered_is_numpy_unique(name: str, codes: list[int], size: int) -> None:
    values = np.array(codes, dtype=np.int64)
    distinct, position = renumbered(values, size)
    expected_distinct, expected_position = np.unique(values, return_inverse=True)
    assert distinct.tolist() == expected_distinct.tolist(), name
    assert position.tolist() == expected_position.tolist(), name


def test_holders_are_those_of_each_kind_held_twice() -> None:
    found = Links(
        *(np.zeros(0),) * 3,
        key_account=np.array(["a", "b", "c", "a", "d", "e"], dtype=object),
        key=np.array(
            ["card:1", "card:1", "card:2", "signup_ip:1", "signup_ip:1", "signup_burst:x"],
            dtype=object,
        ),
    )
    assert found.holders("card") == {"card:1": ["a", "b"]}
    assert found.holders("signup_ip") == {"signup_ip:1": ["a", "d"]}
    assert found.holders("signup_burst") == {}
    assert found.holders("card") is found.holders("card")  # gathered once a tick
