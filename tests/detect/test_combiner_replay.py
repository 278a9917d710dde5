"""With decide_by="combiner", the replay flags an account at the k-th linking tick where
the shipped combiner's probability reaches the flag threshold while it sits in a linked
group, or the lone line (combiner_flag_lone) at any tick, lists it for review at the k-th tick its
probability reaches the review threshold, and reports the k-th highest of its tick
probabilities (its peak for k = 1): the same as scoring the features every tick exposes
(what benchmarks/robustness does offline).
Its linked groups' followers are flagged as the benchmark recomputes them from those ticks."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from benchmarks.robustness.judging import acted_at
from benchmarks.robustness.leakage import attack_traffic, world_leakage
from benchmarks.robustness.worlds import TickLog, World

from distillguard.detect.config import DetectConfig
from distillguard.detect.replay import Replay, replay
from distillguard.detect.results import build_results
from distillguard.detect.summary import DetectSummary
from distillguard.engine.base import SignalSource
from distillguard.engine.duckdb_engine import DuckDBEngine
from distillguard.evaluate.metrics import evaluate
from distillguard.ingest import Lake
from distillguard.ingest.lake import connect, sql_path
from distillguard.scoring.combiner import Combiner, shipped
from distillguard.simulate import SimSummary


def _replayed(
    tiny_lake: Path, tiny_detect: DetectSummary, tmp_path: Path, config: DetectConfig
) -> tuple[Replay, TickLog]:
    con: duckdb.DuckDBPyConnection = connect(tmp_path)
    source = SignalSource(DuckDBEngine(), tiny_detect.out / "signals")
    source.engine.attach(con, source.directory)
    accounts = sql_path(tiny_lake / "accounts" / "accounts.parquet")
    con.execute(f"CREATE TEMP TABLE accounts AS SELECT * FROM read_parquet('{accounts}')")
    seen = TickLog()
    return replay(con, source, "accounts", config, observe=seen.observe), seen


NEVER = 2.0  # a lone line no probability reaches: no account linked to none is flagged
EVERY = DetectConfig.combiner_flag  # every tick counts at the flag line (before cf67580)


def _first_flags(ticks: pa.Table, p: np.ndarray, config: DetectConfig) -> dict[str, np.datetime64]:
    """Offline, each account's flag tick as detect decides it: its k-th tick in a linked
    group at or over combiner_flag, or its k-th tick of any kind at or over the lone line."""
    k, in_group = config.combiner_flag_ticks, ticks["cluster"].to_numpy() >= 0
    linked: dict[str, int] = {}
    anywhere: dict[str, int] = {}
    first: dict[str, np.datetime64] = {}
    ids = ticks["account_id"].to_pylist()
    rows = zip(ticks["tick"].to_numpy(), ids, p.tolist(), in_group.tolist(), strict=True)
    for tick, a, value, grouped in rows:
        linked[a] = linked.get(a, 0) + int(value >= config.combiner_flag and grouped)
        anywhere[a] = anywhere.get(a, 0) + int(value >= config.lone_line)
        if max(linked[a], anywhere[a]) >= k:
            first.setdefault(a, tick)
    return first


@pytest.mark.parametrize("lone", [NEVER, EVERY, DetectConfig.combiner_flag_lone, 0.999])
def test_flags_and_scores_follow_the_combiner_at_each_tick(
    tiny_lake: Path, tiny_detect: DetectSummary, tmp_path: Path, lone: float
) -> None:
    config = DetectConfig(combiner_flag_ticks=1, combiner_flag_lone=lone)
    result, seen = _replayed(tiny_lake, tiny_detect, tmp_path, config)
    ticks = seen.table()
    p = shipped().score({n: ticks[n].to_numpy() for n in shipped().features})
    peak: dict[str, float] = {}
    for a, value in zip(ticks["account_id"].to_pylist(), p.tolist(), strict=True):
        peak[a] = max(peak.get(a, 0.0), value)
    first = _first_flags(ticks, p, config)
    assert result.state.learned_score == peak == result.state.learned_peak
    assert result.state.account_flag == first
    assert first, "the tiny campaigns should be caught"
    # the tiny lake's lone accounts over the line: flagged when every tick counts alike,
    # else some are listed only
    over = {a for a, v in peak.items() if v >= config.combiner_flag}
    if lone == EVERY:
        assert over == set(first)
    else:
        assert over - set(first)
    assert over <= set(result.state.account_review)
    held = over - set(first) - set(result.state.cluster_flag)
    for r in build_results(result)[0]:  # a held account's explanation says why
        said = any("linked to no other account" in e.inference for e in r.evidence)
        assert (r.account_id in held) == said
        assert not said or (r.review and not r.flagged)


@pytest.mark.parametrize(
    ("k", "lone"),
    [(DetectConfig.combiner_flag_ticks, DetectConfig.combiner_flag_lone), (3, NEVER), (3, EVERY)],
)
def test_with_k_ticks_an_account_is_flagged_at_its_kth_tick_over_the_line(
    tiny_lake: Path, tiny_detect: DetectSummary, tmp_path: Path, k: int, lone: float
) -> None:
    """Its score is the k-th highest of its tick probabilities, as the benchmark's
    World.combiner_scores(p, k) computes it; flags (at the flag line in a linked group, at
    the lone line anywhere) and reviews start at the k-th tick."""
    config = DetectConfig(combiner_flag_ticks=k, combiner_flag_lone=lone)
    result, seen = _replayed(tiny_lake, tiny_detect, tmp_path, config)
    ticks = seen.table()
    ids = ticks["account_id"].to_pylist()
    p = shipped().score({n: ticks[n].to_numpy() for n in shipped().features})
    hits: dict[str, dict[float, int]] = {"flag": {}, "review": {}}
    listed: dict[str, np.datetime64] = {}
    for tick, a, value in zip(ticks["tick"].to_numpy(), ids, p.tolist(), strict=True):
        for tier, line in (("flag", config.combiner_flag), ("review", config.combiner_review)):
            if value >= line:
                hits[tier][a] = hits[tier].get(a, 0) + 1
                if tier == "review" and hits[tier][a] == k:
                    listed[a] = tick
    flags = _first_flags(ticks, p, config)
    assert result.state.account_flag == flags
    assert result.state.account_review == listed
    assert flags, "the tiny campaigns should still be caught"
    world = World(pa.table({"account_id": sorted(set(ids))}), ticks)
    kth = dict(zip(sorted(set(ids)), world.combiner_scores(p, k).tolist(), strict=True))
    assert result.state.learned_score == kth
    offline = world.combiner_flagged(
        p, config.combiner_flag, config.follow_rule, k, config.lone_line
    )
    assert {a for a, f in zip(sorted(set(ids)), offline.tolist(), strict=True) if f} == set(
        result.state.account_flag
    ) | set(result.state.cluster_flag)
    if k == DetectConfig.combiner_flag_ticks:  # detect's outputs, at its defaults
        by_account = {a.account_id: a for a in tiny_detect.accounts}
        peak = result.state.learned_peak
        for a, score in kth.items():  # one flagged with its cluster first: its peak
            cluster_first = by_account[a].flagged_by == "cluster"
            assert by_account[a].score == round(peak[a] if cluster_first else score, 4)
            flagged = a in flags or a in result.state.cluster_flag
            assert by_account[a].flagged == flagged
    once = {a for a, n in hits["flag"].items() if n < k}
    assert once, "some account should cross the line at fewer than k ticks"
    assert not once & set(result.state.account_flag)


# (follower floor, share of the group flagged on its own, whether the tiny lake must show
# followers): the shipped rule, and a loose one under which its campaigns take some along.
@pytest.mark.parametrize("case", [(0.9, 0.5, False), (0.01, 0.01, True)])
def test_followers_are_flagged_as_the_benchmark_recomputes_them(
    tiny_lake: Path, tiny_detect: DetectSummary, tmp_path: Path, case: tuple[float, float, bool]
) -> None:
    floor, share, some = case
    config = DetectConfig(combiner_follow_floor=floor, combiner_follow_share=share)
    result, seen = _replayed(tiny_lake, tiny_detect, tmp_path, config)
    ticks = seen.table()
    accounts = sorted(set(ticks["account_id"].to_pylist()))
    world = World(pa.table({"account_id": accounts}), ticks)
    p = world.tick_probability(shipped())
    flagged = world.combiner_flagged(
        p,
        config.combiner_flag,
        config.follow_rule,
        config.combiner_flag_ticks,
        config.lone_line,
    )
    state = result.state
    assert set(state.account_flag) | set(state.cluster_flag) == {
        a for a, hit in zip(accounts, flagged.tolist(), strict=True) if hit
    }
    followers = set(state.cluster_flag) - set(state.account_flag)
    if some:
        assert followers
    for a in followers:  # each with its own probability at or above the floor at a tick
        assert state.learned_peak[a] >= floor
    accounts_out, clusters_out = build_results(result)
    in_a_cluster = {m for c in clusters_out for m in c.accounts}
    for r in accounts_out:
        if r.account_id in followers:  # reported as flagged with its cluster, at its peak
            assert (r.flagged, r.flagged_by) == (True, "cluster")
            assert r.cluster_id is not None and r.account_id in in_a_cluster
            assert r.score == round(state.peak_of(r.account_id), 4) >= floor
            assert r.evidence[0].code == "combiner" and r.reasons


def test_leakage_is_counted_as_evaluate_counts_it_on_detects_output(
    tiny_sim: SimSummary, tiny_lake: Path, tiny_detect: DetectSummary, tmp_path: Path
) -> None:
    """The benchmark's leakage per campaign, from the kept ticks and the lake's attack
    traffic, is what `evaluate` measures on detect's own output, flags and reviews."""
    config = DetectConfig()
    _, seen = _replayed(tiny_lake, tiny_detect, tmp_path, config)
    labels = tiny_sim.files[2]
    world = World(pq.read_table(labels), seen.table(), attack_traffic(Lake(tiny_lake), labels))
    lines = {"flag": config.combiner_flag, "review": config.combiner_review}
    p = world.tick_probability(shipped())
    acted = acted_at(world, p, lines, config.combiner_flag_ticks, config.lone_line)
    metrics = {c.campaign: c for c in evaluate(tiny_detect.out, labels).campaigns}
    assert world.traffic is not None
    for tier, field in (("flag", "leakage"), ("review", "review_leakage")):
        leaks = world_leakage(world.traffic, world.accounts, acted[tier])
        expected = {c: getattr(m, field) for c, m in metrics.items()}
        assert {c: leak.leakage for c, leak in leaks.items()} == pytest.approx(expected)
    flagged = world_leakage(world.traffic, world.accounts, acted["flag"])
    assert any(0 < leak.leakage < 1 for leak in flagged.values()), "some caught part way"
    for c, leak in flagged.items():  # whole hours: from the hour of its first exchange
        first = metrics[c].hours_to_first_flag
        assert (leak.hours_to_first is None) == (first is None)
        if leak.hours_to_first is not None and first is not None:
            assert first <= leak.hours_to_first < first + 1


class _Failing(Combiner):
    def score(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        raise RuntimeError("the combiner failed at a tick")


def test_a_combiner_that_fails_at_a_tick_fails_the_replay(
    tiny_lake: Path, tiny_detect: DetectSummary, tmp_path: Path
) -> None:
    con: duckdb.DuckDBPyConnection = connect(tmp_path)
    source = SignalSource(DuckDBEngine(), tiny_detect.out / "signals")
    source.engine.attach(con, source.directory)
    failing = _Failing(**{f.name: getattr(shipped(), f.name) for f in fields(Combiner)})
    with pytest.raises(RuntimeError, match="failed at a tick"):
        replay(con, source, None, DetectConfig(), combiner=failing)
