"""Sign-up keys: a burst is measured against its network's own recent rate, and a card is
a fleet's only when enough accounts outside declared organisations hold it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from distillguard.detect.rule_clusters import SharedInfrastructure
from distillguard.linking.keys import BURST_MIN, strong_keys_sql
from tests.key_links import links_of

T0 = datetime(2026, 2, 2, 12, 0, tzinfo=UTC)


def _signups(spec: list[tuple[str, float, int]]) -> pa.Table:
    """(address, hours after T0, how many accounts) -> an accounts table."""
    ids: list[str] = []
    ips: list[str] = []
    created: list[datetime] = []
    for ip, hours, count in spec:
        for _ in range(count):
            ids.append(f"a{len(ids):05d}")
            ips.append(ip)
            created.append(T0 + timedelta(hours=hours))
    return pa.table(
        {
            "account_id": ids,
            "signup_ip": ips,
            "created_at": pa.array(created, pa.timestamp("ms", tz="UTC")),
            "payment_fingerprint": pa.array([None] * len(ids), pa.string()),
        }
    )


def _burst_holders(table: pa.Table) -> set[str]:
    con = duckdb.connect()
    con.register("accounts", table)
    rows = con.sql(strong_keys_sql("accounts", "accounts")).fetchall()
    return {a for a, key in rows if key.startswith("signup_burst:")}


def _busy_network(per_half_hour: int) -> list[tuple[str, float, int]]:
    """A network with this many sign-ups every half hour over the two days before T0."""
    return [(f"12.0.{k % 200}.{k // 200}", -48 + k / 2, per_half_hour) for k in range(96)]


BURSTS = [
    # (case, history, the half hour at T0, how many of its sign-ups are in a burst key)
    ("two strangers on a quiet network", [], [("9.9.1.1", 0, 1), ("9.9.2.2", 0, 1)], 0),
    ("a batch on a quiet network", [], [("9.9.1.1", 0, BURST_MIN)], BURST_MIN),
    ("eight at a busy network's usual rate", _busy_network(8), [("12.0.9.9", 0.1, 8)], 0),
    ("fifty at a busy network", _busy_network(8), [("12.0.9.9", 0.1, 50)], 50),
    ("a batch split across networks", [], [("9.9.1.1", 0, 2), ("8.8.1.1", 0, 2)], 0),
]


@pytest.mark.parametrize(
    ("case", "history", "probe", "expected"), BURSTS, ids=[c[0] for c in BURSTS]
)
def test_burst_is_measured_against_the_networks_rate(
    case: str,
    history: list[tuple[str, float, int]],
    probe: list[tuple[str, float, int]],
    expected: int,
) -> None:
    table = _signups(history + probe)
    first_probe = f"a{table.num_rows - sum(n for *_, n in probe):05d}"
    holders = {a for a in _burst_holders(table) if a >= first_probe}
    assert len(holders) == expected, case


def test_burst_rate_reads_only_the_day_before() -> None:
    """Sign-ups after a burst do not hide it: the key is causal."""
    before = _burst_holders(_signups([("9.9.1.1", 0, 4)]))
    after = _burst_holders(
        _signups([("9.9.1.1", 0, 4), *[("9.9.5.5", h / 2, 6) for h in range(1, 40)]])
    )
    assert before <= after and len(before) == 4


SHARING = [
    ("a family card", {"card:f": ["a", "b"]}, frozenset(), 3, set()),
    ("a fleet's card", {"card:p": ["a", "b", "c"]}, frozenset(), 3, {"a", "b", "c"}),
    ("a declared company's card", {"card:o": ["a", "b", "c"]}, frozenset("abc"), 3, set()),
    (
        "a company card lent to two outsiders",
        {"card:o": ["a", "b", "x", "y"]},
        frozenset("ab"),
        2,
        {"x", "y"},
    ),
    ("one holder", {"card:u": ["a"]}, frozenset(), 1, set()),
    ("other kinds are not cards", {"signup_ip:1.2.3.4": ["a", "b", "c"]}, frozenset(), 3, set()),
]


@pytest.mark.parametrize(
    ("case", "holders", "declared", "least", "expected"), SHARING, ids=[c[0] for c in SHARING]
)
def test_card_sharing_counts_holders_outside_declared_organisations(
    case: str,
    holders: dict[str, list[str]],
    declared: frozenset[str],
    least: int,
    expected: set[str],
) -> None:
    assert links_of(holders).sharing("card", least, declared) == expected, case


def test_a_declared_company_card_is_not_shared_infrastructure() -> None:
    """A company's CI accounts on its card are not a fleet; two strangers on one card are,
    and so is anyone sharing a sign-up address."""
    edges = links_of(
        {
            "card:company": ["ci1", "ci2", "ci3"],
            "card:pooled": ["x", "y"],
            "signup_ip:1.2.3.4": ["ci1", "z"],
        }
    )
    arrays = {
        "account_id": np.array(["ci1", "ci2", "ci3", "x", "y", "z"], dtype=object),
        "org_id": np.array(["org_a", "org_a", "org_a", None, float("nan"), None], dtype=object),
    }
    shared = SharedInfrastructure.of(edges, arrays)
    assert shared.card == {"x", "y"}
    assert shared.any_key == {"x", "y", "ci1", "z"}
