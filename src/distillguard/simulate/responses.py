"""What the model sends back for each exchange: thinking budget, output and reasoning
tokens, HTTP status, refusals and stop reason, from the task kind and the account's
leanings (simulate/individual.py)."""

from __future__ import annotations

import numpy as np

from distillguard.simulate.accounts import AccountBlock
from distillguard.simulate.individual import output_scales, shares
from distillguard.simulate.schedule import DaySchedule

REASONING_KINDS = frozenset({"math", "code", "agentic_coding", "data_analysis", "trace"})
OUTPUT_MEDIAN = {
    "chat": 350,
    "query": 150,
    "code": 600,
    "agentic_coding": 400,
    "math": 500,
    "homework": 450,
    "data_analysis": 700,
    "computer_use": 150,
    "vision": 250,
    "tool_use": 120,
    "grading": 300,
    "rewrite": 400,
    "trace": 900,
}
THINKING_BUDGETS = np.array([1024, 2048, 4096, 8192, 16000, 32000])


def thinking_budgets(
    block: AccountBlock,
    kinds: list[str],
    accounts: np.ndarray,
    max_tokens: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """(thinking budget or 0, max_tokens raised above the budget where thinking is on)."""
    b = block.plan.behaviour
    boost = np.array([1.5 if k in REASONING_KINDS else 0.7 for k in kinds])
    share = shares(block.leanings, b.thinking_share, accounts, "thinking")
    on = rng.random(len(kinds)) < np.minimum(share * boost, 1.0)
    scale = output_scales(block.leanings, b.output_scale, accounts)
    bias = np.clip(rng.normal(1.5 + scale, 1.2, len(kinds)), 0, len(THINKING_BUDGETS) - 1)
    budget = np.where(on, THINKING_BUDGETS[bias.astype(int)], 0)
    return budget, np.where(on, np.maximum(max_tokens, budget + 1024), max_tokens)


def token_usage(
    block: AccountBlock,
    kinds: list[str],
    *,
    accounts: np.ndarray,
    cot: np.ndarray,
    max_tokens: np.ndarray,
    budget: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    b = block.plan.behaviour
    scale = output_scales(block.leanings, b.output_scale, accounts)
    median = np.array([OUTPUT_MEDIAN[k] for k in kinds]) * scale * np.where(cot, 1.8, 1.0)
    wanted = (median * rng.lognormal(0, 0.6, len(kinds))).astype(np.int64) + 5
    output = np.minimum(wanted, max_tokens)
    reasoning = np.where(budget > 0, np.minimum(budget * rng.beta(2, 3, len(kinds)), budget), 0)
    return {
        "output": output,
        "capped": wanted >= max_tokens,
        "reasoning": reasoning.astype(np.int64),
    }


def statuses(
    kinds: list[str], sched: DaySchedule, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(HTTP status, refused) per exchange: 429 on tight bursts, rare 5xx/401, refusals of
    reasoning-extraction prompts."""
    n = len(kinds)
    gap = np.diff(sched.ts_ms, prepend=0)
    same = (
        np.concatenate([[False], sched.account[1:] == sched.account[:-1]])
        if n
        else np.zeros(0, bool)
    )
    status = np.full(n, 200)
    status[same & (gap < 1500) & (rng.random(n) < 0.3)] = 429
    draw = rng.random(n)
    status[draw < 0.003] = 529
    status[(draw >= 0.003) & (draw < 0.0035)] = 401
    refused = (
        np.array([k == "trace" for k in kinds], dtype=bool)
        & (rng.random(n) < 0.35)
        & (status == 200)
    )
    return status, refused


def stop_reasons(
    ok: np.ndarray, refused: np.ndarray, capped: np.ndarray, kinds: list[str]
) -> list[str | None]:
    tool_loop = np.array([k in ("agentic_coding", "computer_use") for k in kinds], dtype=bool)
    reason = np.where(capped, "max_tokens", np.where(tool_loop, "tool_use", "end_turn"))
    reason = np.where(refused, "refusal", reason)
    return [str(r) if good else None for r, good in zip(reason.tolist(), ok.tolist(), strict=True)]
