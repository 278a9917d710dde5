"""Each account's own leanings within its population: which tasks it favours, how often it
turns thinking on or asks for step-by-step reasoning, how long its answers run.

A population's knobs are where its accounts centre. Without spread, every power user of a
world follows one task mix and one thinking share, so they are each other's behaviour
twins, which no real customer base is, and a detector learns that a tight cohort of
similar heavy users is a campaign. With `mix_spread` > 0 each account draws its leanings
around the population's:

- task weights: the population's weight x log-normal(0, spread), per account and task;
- thinking share and reasoning prompts: x a log-normal of mean 1 and sigma `spread`, at
  most 0.95;
- output length: x a log-normal of mean 1 and sigma `spread / 2`.

The multipliers have mean 1, as account rates do (simulate/accounts.py), and output length
keeps its average. The shares do not quite: capped at 0.95, a high share averages lower
(thinking share 0.5 at spread 1 averages about 0.40), and re-weighting each account's mix
makes the average mix a little flatter than the knob (chat 0.30 -> about 0.28 for power
users at spread 1). Randomisation draws every knob over ranges far wider than that.
Relayed sessions take their kinds from the relayed customers' mix, and a templated account
keeps its one template's kind, whatever its leaning.

An operator who gives each account its own slice of a dataset shows the same spread, so
the knob is drawn for campaigns as for customers (simulate/randomize.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from distillguard.simulate.behaviour import Behaviour, Mix


@dataclass(frozen=True)
class Leanings:
    """Per account (rows) of one population: task weights over `kinds`, and multipliers of
    the population's thinking share, reasoning-prompt share and output scale."""

    kinds: tuple[str, ...]
    task_weights: np.ndarray  # (accounts, kinds)
    thinking: np.ndarray
    cot: np.ndarray
    output: np.ndarray

    def kinds_of(self, mix: Mix, accounts: np.ndarray, rng: np.random.Generator) -> list[str]:
        """One task kind per entry of `accounts`, from `mix` reweighted by each account's
        leaning (a campaign's late phase keeps the accounts' leanings)."""
        base = np.asarray([mix.get(k, 0.0) for k in self.kinds])
        weights = self.task_weights[accounts] * base
        cumulative = np.cumsum(weights, axis=1)
        draw = rng.random(len(accounts)) * cumulative[:, -1]
        chosen = (draw[:, None] >= cumulative).sum(axis=1)
        return [self.kinds[i] for i in np.minimum(chosen, len(self.kinds) - 1).tolist()]


def draw_leanings(b: Behaviour, n: int, rng: np.random.Generator) -> Leanings | None:
    """The leanings of `n` accounts, or None where the population has no spread (its
    accounts then follow its knobs exactly, and the draws of older worlds are unchanged)."""
    if b.mix_spread <= 0:
        return None
    kinds = tuple(sorted(set(b.task_mix) | set(b.late_task_mix or {})))
    spread = b.mix_spread
    return Leanings(
        kinds=kinds,
        task_weights=rng.lognormal(0.0, spread, (n, len(kinds))),
        thinking=_mean_one(rng, spread, n),
        cot=_mean_one(rng, spread, n),
        output=_mean_one(rng, spread / 2, n),
    )


def _mean_one(rng: np.random.Generator, sigma: float, n: int) -> np.ndarray:
    return rng.lognormal(-(sigma**2) / 2, sigma, n)


def shares(leanings: Leanings | None, share: float, accounts: np.ndarray, which: str) -> np.ndarray:
    """The population's `share` (thinking or cot) per entry of `accounts`, after each
    account's leaning, at most 0.95; the share itself where there is no spread."""
    if leanings is None:
        return np.full(len(accounts), share)
    factor = leanings.thinking if which == "thinking" else leanings.cot
    return np.asarray(np.minimum(share * factor[accounts], 0.95), dtype=float)


def output_scales(leanings: Leanings | None, scale: float, accounts: np.ndarray) -> np.ndarray:
    """The population's output scale per entry of `accounts`, after each account's leaning."""
    if leanings is None:
        return np.full(len(accounts), scale)
    return np.asarray(scale * leanings.output[accounts], dtype=float)
