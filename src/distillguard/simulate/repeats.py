"""Prompts that repeat: suites that customers rerun, and items a campaign samples twice.

Real CI reruns its tests on every commit and an eval harness its benchmark on every model,
so their prompts recur across hours and days; a harvest wants new items, but best-of-n
sampling sends one item several times in a row. Both are drawn here, so that neither a
repeat nor its absence alone tells a customer from a campaign.
"""

from __future__ import annotations

import numpy as np

from distillguard.simulate.accounts import AccountBlock
from distillguard.simulate.content.compose import PromptSource


def rerun_suite(
    block: AccountBlock,
    kind: str,
    accounts: np.ndarray,
    texts: list[str],
    *,
    source: PromptSource,
    rng: np.random.Generator,
) -> tuple[list[str], np.ndarray]:
    """Where a draw falls under suite_share, one of the account's own suite of prompts for
    this kind (drawn on first use) in place of a new one; and which rows those are."""
    b, suites = block.plan.behaviour, block.memo.suites
    size = max(b.suite_size, 1)
    rerun = rng.random(len(texts)) < b.suite_share
    picks = rng.integers(0, size, len(texts)).tolist()
    out = list(texts)
    for i in np.flatnonzero(rerun).tolist():
        key = (int(accounts[i]), kind)
        if key not in suites:
            suites[key] = source.prompts(kind, rng, size)
        out[i] = suites[key][picks[i]]
    return out, rerun


def resample(
    share: float,
    kinds: list[str],
    accounts: np.ndarray,
    prompts: tuple[list[str], np.ndarray],
    rng: np.random.Generator,
) -> None:
    """In place: where a draw falls under `share`, the row resends its account's previous
    prompt of the same kind (rows are sorted by account, then time)."""
    out, cot = prompts
    again = rng.random(len(out)) < share
    for i in np.flatnonzero(again[1:]).tolist():
        if accounts[i] == accounts[i + 1] and kinds[i] == kinds[i + 1]:
            out[i + 1], cot[i + 1] = out[i], cot[i]
