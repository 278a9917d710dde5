"""Prompts that repeat: a customer's rerun suite, a campaign's resampled items."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import numpy as np
import pytest

from distillguard.simulate import SimSummary, simulate
from distillguard.simulate.accounts import AccountMemo
from distillguard.simulate.archetypes import ARCHETYPES
from distillguard.simulate.content.compose import GrammarSource
from distillguard.simulate.repeats import rerun_suite, resample
from tests.simulate.test_realism import _rows


def _block(**knobs: Any) -> Any:
    """What rerun_suite reads of an AccountBlock: its behaviour and its memo."""
    b = dataclasses.replace(ARCHETYPES["ci_agent"], **knobs)
    return SimpleNamespace(plan=SimpleNamespace(behaviour=b), memo=AccountMemo())


@pytest.mark.parametrize(
    ("share", "size", "low", "high"),
    [(0.0, 40, 0.0, 0.0), (0.5, 40, 0.45, 0.55), (0.9, 5, 0.85, 0.95)],
)
def test_a_suite_replaces_its_share_of_prompts_with_the_accounts_own(
    share: float, size: int, low: float, high: float
) -> None:
    block, rng = _block(suite_share=share, suite_size=size), np.random.default_rng(0)
    accounts = np.repeat(np.arange(4), 500)
    texts = [f"new {i}" for i in range(len(accounts))]
    out, rerun = rerun_suite(block, "code", accounts, texts, source=GrammarSource(), rng=rng)
    assert low <= rerun.mean() <= high
    assert [t for t, r in zip(out, rerun, strict=True) if not r] == [
        t for t, r in zip(texts, rerun, strict=True) if not r
    ], "the other rows keep their new prompts"
    for a in range(4):
        mine = {t for t, r, acc in zip(out, rerun, accounts, strict=True) if r and acc == a}
        assert mine <= set(block.memo.suites[(a, "code")]) if mine else True
        assert len(mine) <= size
    if share:
        assert not set(block.memo.suites[(0, "code")]) & set(block.memo.suites[(1, "code")])


def test_resample_resends_the_previous_prompt_of_the_same_account_and_kind() -> None:
    rng = np.random.default_rng(1)
    accounts = np.repeat(np.arange(50), 40)
    kinds = ["math" if i % 20 < 10 else "code" for i in range(len(accounts))]
    out, cot = [f"p{i}" for i in range(len(accounts))], np.zeros(len(accounts), dtype=bool)
    resample(0.3, kinds, accounts, (out, cot), rng)
    again = [i for i in range(1, len(out)) if out[i] == out[i - 1]]
    assert 0.2 < len(again) / len(out) < 0.3  # 0.3 of the rows that have a same-kind one before
    assert all(accounts[i] == accounts[i - 1] and kinds[i] == kinds[i - 1] for i in again)


SAME_PROMPT_OTHER_HOUR = """
    WITH p AS (
        SELECT account_id, date_trunc('hour', ts) AS hour, messages[1].content[1].text AS prompt
        FROM exchanges),
    seen AS (
        SELECT account_id, prompt, count(DISTINCT hour) > 1 AS again, count(*) AS n
        FROM p GROUP BY ALL)
    SELECT l.population, sum(n) FILTER (WHERE again) / sum(n)
    FROM seen JOIN labels l USING (account_id) GROUP BY ALL
"""


def test_ci_agents_rerun_prompts_across_hours_and_campaigns_do_not(
    tiny_run: SimSummary,
) -> None:
    """(The tiny world's eval runners burst too rarely in 4 days to rerun much.)"""
    share = {k: float(v or 0.0) for k, v in _rows(tiny_run, SAME_PROMPT_OTHER_HOUR)}  # type: ignore[arg-type]
    campaigns = ("reasoning", "agentic", "hydra", "bought", "relay", "slow", "quiet", "churn")
    assert share["ci_agent"] > 0.3
    assert max(share[c] for c in campaigns) < 0.1


# Traffic of populations that neither rerun a suite nor resample, as the simulator before
# version 6 drew it (1148724): the repeats draw nothing for them. If a change moves this
# stream on purpose, bump SIMULATOR_VERSION and write the new fingerprints here.
UNREPEATED = """
days: 2
start: "2026-02-02T00:00:00Z"
models: {current: [m-a, m-b], new: m-c, release_day: 1}
benign:
  casual: {accounts: 40}
  coding_agent: {accounts: 10, rate_per_day: 20}
campaigns:
  hydra: {archetype: hydra, exchanges: 400, accounts: 10}
"""
BEFORE_REPEATS = {False: "d0019b5c31e97716", True: "86537c39d4a84e9a"}


@pytest.mark.parametrize(("randomize", "fingerprint"), sorted(BEFORE_REPEATS.items()))
def test_populations_that_repeat_nothing_are_drawn_as_before(
    tmp_path: Path, randomize: bool, fingerprint: str
) -> None:
    preset = tmp_path / "preset.yaml"
    preset.write_text(UNREPEATED)
    run = simulate(str(preset), tmp_path / "out", seed=3, randomize=randomize)
    with duckdb.connect() as con:
        rows = con.execute(
            f"SELECT request_id, account_id, messages::VARCHAR FROM '{run.files[0]}' "
            "ORDER BY request_id"
        ).fetchall()
    assert hashlib.sha256(repr(rows).encode()).hexdigest()[:16] == fingerprint
