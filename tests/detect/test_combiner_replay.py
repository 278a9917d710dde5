"""With decide_by="combiner", the replay flags an account at the first linking tick where
the shipped combiner's probability reaches the flag threshold and reports its peak: the
same as scoring the features every tick exposes (what benchmarks/robustness does offline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from distillguard.detect.config import DetectConfig
from distillguard.detect.replay import replay
from distillguard.detect.run import DetectSummary
from distillguard.engine.base import SignalSource
from distillguard.engine.duckdb_engine import DuckDBEngine
from distillguard.ingest.lake import connect, sql_path
from distillguard.scoring.combiner import shipped


def test_flags_and_scores_follow_the_combiner_at_each_tick(
    tiny_lake: Path, tiny_detect: DetectSummary, tmp_path: Path
) -> None:
    con = connect(tmp_path)
    source = SignalSource(DuckDBEngine(), tiny_detect.out / "signals")
    source.engine.attach(con, source.directory)
    accounts = sql_path(tiny_lake / "accounts" / "accounts.parquet")
    con.execute(f"CREATE TEMP TABLE accounts AS SELECT * FROM read_parquet('{accounts}')")
    config = DetectConfig()
    seen: list[tuple[np.datetime64, np.ndarray, np.ndarray]] = []
    result = replay(
        con,
        source,
        "accounts",
        config,
        observe=lambda tick, ids, f: seen.append((tick, ids, shipped().score(f))),
    )
    peak: dict[str, float] = {}
    first: dict[str, np.datetime64] = {}
    for tick, ids, p in seen:
        for a, value in zip(ids.tolist(), p.tolist(), strict=True):
            peak[a] = max(peak.get(a, 0.0), value)
            if value >= config.combiner_flag:
                first.setdefault(a, tick)
    assert result.state.learned_score == peak
    assert result.state.account_flag == first
    assert first, "the tiny campaigns should be caught"
    by_account = {a.account_id: a for a in tiny_detect.accounts}
    for a, top in peak.items():
        assert by_account[a].score == round(top, 4)
        assert by_account[a].flagged == (a in first)
