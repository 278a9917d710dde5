"""A peer's indicators with the learned combiner deciding (detect's default).

The boost stays out of the features the combiner reads and joins its probability as a
noisy-OR before the thresholds, at each linking tick, from each account's last row before
the tick. Checked on the sharing world's own lake and bundle, by replaying its signals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pytest

from distillguard.detect.boost import STAND_IN_STRENGTH, AccountBoost, apply_boost, with_boost
from distillguard.detect.config import DetectConfig
from distillguard.detect.decide import ReplayState
from distillguard.detect.replay import replay
from distillguard.detect.results import build_results
from distillguard.engine.base import SignalSource
from distillguard.engine.duckdb_engine import DuckDBEngine
from distillguard.ingest.lake import connect, sql_path
from distillguard.scoring.evidence import Rule, Scored
from distillguard.sharing.boost import PeerBoost
from tests.sharing.conftest import World

CONFIG = DetectConfig()  # decide_by="combiner"
AFTER = Rule("after", "after", "after", lambda a: a["after"], lambda a, r: {})


@dataclass
class _After:
    """Evidence of fixed strength for every row ending after `time`: what a peer's match
    seen at `time` would give every account."""

    time: np.datetime64
    strength: float
    rule: Rule = AFTER

    def prepare(self, con: duckdb.DuckDBPyConnection, signals: str, accounts: str | None) -> None:
        return None

    def columns(self, account_id: np.ndarray, window_end: np.ndarray) -> dict[str, np.ndarray]:
        return {"after": np.where(window_end > self.time, self.strength, 0.0)}


def _replay(
    world: World, tmp: Path, boost: AccountBoost | None, config: DetectConfig = CONFIG
) -> tuple[ReplayState, list[str]]:
    """The replay's state and each account's explanation, over the world's signals."""
    con = connect(tmp)
    source = SignalSource(DuckDBEngine(), world.detect / "signals")
    signals = source.engine.attach(con, source.directory)
    path = sql_path(world.lake / "accounts" / "accounts.parquet")
    con.execute(f"CREATE TEMP TABLE accounts AS SELECT * FROM read_parquet('{path}')")
    if boost is not None:
        boost.prepare(con, signals, "accounts")
    result = replay(con, source, "accounts", config, boost=boost)
    accounts, _ = build_results(result, (boost.rule,) if boost is not None else ())
    return result.state, [
        f"{a.account_id} {a.flagged} {a.first_flagged_at} {a.reasons}" for a in accounts
    ]


@pytest.fixture(scope="module")
def without(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ReplayState, list[str]]:
    return _replay(world, tmp_path_factory.mktemp("without"), None)


@pytest.fixture(scope="module")
def with_peer(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ReplayState, list[str]]:
    return _replay(
        world, tmp_path_factory.mktemp("peer"), PeerBoost.from_files(world.bundle, world.key)
    )


def test_kept_out_of_the_scores_and_added_to_the_probability() -> None:
    arrays = {"account_id": np.array(["a", "b"]), "member_score": np.array([0.2, 0.2])}
    scored = Scored(np.array([0.6, 0.6]), {"x": np.array([0.6, 0.6])})
    boost = _After(np.datetime64("2026-01-01T00:00", "us"), 0.5)
    ends = np.array(["2026-01-02T00:00", "2025-12-31T00:00"], "datetime64[us]")
    kept = apply_boost(boost, arrays, scored, ends, into_score=False)
    assert kept.score.tolist() == [0.6, 0.6] and arrays["member_score"].tolist() == [0.2, 0.2]
    assert kept.strengths["after"].tolist() == [0.5, 0.0]
    assert np.allclose(with_boost(np.array([0.9, 0.9]), arrays), [0.95, 0.9])
    assert with_boost(np.array([0.9]), {"account_id": np.array(["a"])}).tolist() == [0.9]


def test_no_evidence_changes_nothing(
    world: World, tmp_path: Path, without: tuple[ReplayState, list[str]]
) -> None:
    """A boost that never fires (no bundle's matches) gives the same flags, reviews, scores
    and explanations as none at all."""
    state, explained = _replay(world, tmp_path, _After(np.datetime64("2100-01-01", "us"), 0.9))
    before, explained_before = without
    assert state.account_flag == before.account_flag
    assert state.account_review == before.account_review
    assert state.learned_score == before.learned_score
    assert state.learned_facts == before.learned_facts
    assert explained == explained_before
    assert before.account_flag, "the world's campaigns should be caught"


def test_evidence_counts_only_from_the_tick_after_it_is_seen(
    world: World, tmp_path: Path, without: tuple[ReplayState, list[str]]
) -> None:
    before = without[0]
    seen = min(before.account_flag.values()) + np.timedelta64(24, "h")
    state, _ = _replay(world, tmp_path, _After(seen.astype("datetime64[us]"), 0.9))
    changed = {a: t for a, t in state.account_flag.items() if before.account_flag.get(a) != t}
    assert changed, "evidence this strong should flag someone sooner"
    assert all(t > seen for t in changed.values())
    assert all(t <= before.account_flag.get(a, t) for a, t in changed.items())


@pytest.mark.parametrize(
    ("strength", "flags"),
    [
        (STAND_IN_STRENGTH - 0.1, False),  # joins the probability, not the ticks
        (STAND_IN_STRENGTH, True),
        (0.9, True),
    ],
)
def test_only_a_strong_match_stands_in_for_the_ticks_of_a_replay(
    world: World, tmp_path: Path, strength: float, flags: bool
) -> None:
    """With more flag ticks than the log holds, only a match strong enough to stand in for
    them can flag an account on its own (and nobody follows a group without one)."""
    config = DetectConfig(combiner_flag_ticks=10_000)
    state, _ = _replay(world, tmp_path, _After(np.datetime64("2000-01-01", "us"), strength), config)
    assert bool(state.account_flag) == flags


def test_peer_matches_flag_sooner_and_explain_themselves(
    without: tuple[ReplayState, list[str]], with_peer: tuple[ReplayState, list[str]]
) -> None:
    before, after = without[0].account_flag, with_peer[0].account_flag
    for account, first in before.items():
        assert account in after and after[account] <= first, account
    sooner = [a for a, t in after.items() if t < before.get(a, t + np.timedelta64(1, "h"))]
    assert sooner, "a matched account should be flagged earlier"
    facts = with_peer[0].learned_facts
    assert all(facts[a]["outside_evidence"] > 0 for a in sooner)
    explained = {line.split(" ", 1)[0]: line for line in with_peer[1]}
    assert all("matches a peer's indicators" in explained[a] for a in sooner)
