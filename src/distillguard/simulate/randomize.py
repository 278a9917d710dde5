"""Domain randomisation: every behaviour knob of every population drawn per seed.

One simulator with fixed knobs teaches a detector its numbers (a rate of "8 a day", an
output "3x longer than usual"). With `--randomize` (or a preset that sets `randomize:
true`) each population's knobs are redrawn per seed from the wide ranges below, around
the archetype's (and preset's) value, so that no absolute number separates benign from
attack in every world; only behaviour an attacker must show at scale survives.

- rate_per_day, burst_size: value x log-uniform(1/3, 3);
- rate_sigma: value x log-uniform(0.5, 2), at most 1.5;
- active_prob, weekend_factor, release_adoption: value x uniform(0.5, 1.5), in [0.02, 1];
- hours: kept with chance 0.6 (`burst` always kept), else human, business, evening, flat;
- task_mix, clients, networks: each weight x log-normal(0, 0.6); with chance 0.3 another
  client or network joins with a fifth of the weight;
- cot_share, thinking_share, ip_rotation, relay_share, card_share_prob: value x
  log-uniform(1/3, 3), at most 0.95 (cot_share, thinking_share and ip_rotation at least
  0.005, 0.01 and 0.01; relay_share and card_share_prob stay 0 where 0);
- session_turns, output_scale, release_delay_hours: value x log-uniform(0.6, 1.7);
- signup_in_window: value x uniform(0.3, 1.7), at most 1;
- signup_burst, signup_ips, card_pool: value x log-uniform(0.5, 2), at least 1 where set;
- lifetime_days: value x log-uniform(0.5, 2); burst_prob: x log-uniform(0.5, 2), at most 1;
- mix_spread: uniform(0, 1), whatever the preset says: how far each account's task mix,
  thinking, reasoning prompts and output length lean from its population's
  (simulate/individual.py), for customers and campaigns alike;
- operator_templates: with chance template_odds (0.5 for the campaigns and for the
  customers who run one harness, agent or tool: coding, CI and computer-use agents, batch,
  judge and synthetic-data pipelines, eval runners, scripts; 0 for the rest), every account
  of the population wraps its prompts in one shared pool of log-uniform(2, 40) instruction
  templates, drawn from the world's seed; a preset's own operator_templates are kept;
- org_declared: with chance 0.3 (any population, campaigns included), each card group
  declares one organisation with a chance drawn uniform(0, 1); otherwise as the archetype
  (an org's members declare theirs, enterprise accounts their own, no one else). Without
  it no campaign ever declared one, and a detector learned that a declaration meant benign;
  a preset's own org_declared is kept;
- tiers: with chance 0.3 (any population, campaigns included), the tier mix is redrawn
  over every tier (Dirichlet(0.5): usually two or three tiers carry most accounts), so a
  campaign may buy enterprise or research accounts and a family may pay as a startup.
  Without it the campaigns' tiers were fixed per archetype and never enterprise, and a
  detector could learn the tier as a tell, as it learned the declaration;
- suite_share: value x uniform(0.4, 1.6), in [0.05, 0.95], and suite_size: value x
  log-uniform(0.5, 2), where set (CI and eval runners rerun a fixed suite of prompts);
- resample_share: with chance 0.25 (campaigns only), uniform(0.1, 0.5) of a campaign's
  prompts resend the one before (best-of-n sampling), so a campaign may repeat itself
  too; a preset's own share is kept;
- accounts of each population: count x log-uniform(0.6, 1.6).

Randomness enters as the simulation seed; the same seed gives the same world.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from distillguard.simulate.behaviour import TIERS, Behaviour, Mix

HOURS = ("human", "business", "evening", "flat")
CLIENT_NAMES = (
    "python-sdk",
    "ts-sdk",
    "openai-compat",
    "coding-agent",
    "ide-agent",
    "web-app",
    "http",
)
NETWORK_NAMES = ("residential", "mobile", "cloud", "vpn", "office", "reseller")
# The chance that a population's organisation declarations are redrawn in a world.
DECLARATION_ODDS = 0.3
# The chance that a population's tier mix is redrawn over every tier in a world, and how
# concentrated the draw is (Dirichlet's alpha: below 1, most weight on a few tiers).
TIER_ODDS = 0.3
TIER_ALPHA = 0.5
# The chance that a campaign resamples some of its prompts in a world, and the share's range.
RESAMPLE_ODDS = 0.25
RESAMPLE_SHARES = (0.1, 0.5)


def _scale(rng: np.random.Generator, value: float, low: float, high: float) -> float:
    return float(value * np.exp(rng.uniform(np.log(low), np.log(high))))


def _share(rng: np.random.Generator, value: float, floor: float = 0.0) -> float:
    drawn = _scale(rng, value, 1 / 3, 3) if value > 0 else 0.0
    return float(min(max(drawn, floor if value > 0 or floor else 0.0), 0.95))


def _mix(rng: np.random.Generator, mix: Mix, extra: tuple[str, ...] = ()) -> Mix:
    out = {k: float(w * rng.lognormal(0, 0.6)) for k, w in mix.items()}
    if extra and rng.random() < 0.3:
        other = extra[int(rng.integers(len(extra)))]
        out[other] = out.get(other, 0.0) + 0.2 * sum(out.values())
    total = sum(out.values())
    return {k: w / total for k, w in out.items()}


def _hours(rng: np.random.Generator, hours: str) -> str:
    if hours == "burst" or rng.random() < 0.6:
        return hours
    return HOURS[int(rng.integers(len(HOURS)))]


def _unit(value: float) -> float:
    return float(min(max(value, 0.02), 1.0))


def _count(rng: np.random.Generator, value: int) -> int:
    return max(1, round(_scale(rng, value, 0.5, 2))) if value > 0 else 0


def randomize_behaviour(b: Behaviour, rng: np.random.Generator) -> Behaviour:
    """One world's draw of every knob of a population (see the module's table)."""
    drawn = dataclasses.replace(
        b,
        rate_per_day=_scale(rng, b.rate_per_day, 1 / 3, 3),
        rate_sigma=min(_scale(rng, b.rate_sigma, 0.5, 2), 1.5),
        active_prob=_unit(b.active_prob * rng.uniform(0.5, 1.5)),
        weekend_factor=_unit(b.weekend_factor * rng.uniform(0.5, 1.5)),
        hours=_hours(rng, b.hours),
        task_mix=_mix(rng, b.task_mix),
        late_task_mix=_mix(rng, b.late_task_mix) if b.late_task_mix else None,
        cot_share=_share(rng, b.cot_share, 0.005),
        session_turns=max(1.0, _scale(rng, b.session_turns, 0.6, 1.7)),
        clients=_mix(rng, b.clients, CLIENT_NAMES),
        networks=_mix(rng, b.networks, NETWORK_NAMES),
        ip_rotation=_share(rng, b.ip_rotation, 0.01),
        signup_in_window=min(b.signup_in_window * rng.uniform(0.3, 1.7), 1.0),
        signup_burst=_count(rng, b.signup_burst),
        signup_ips=_count(rng, b.signup_ips),
        card_pool=max(1, _count(rng, b.card_pool)),
        card_share_prob=_share(rng, b.card_share_prob),
        lifetime_days=_scale(rng, b.lifetime_days, 0.5, 2) if b.lifetime_days else None,
        thinking_share=_share(rng, b.thinking_share, 0.01),
        output_scale=_scale(rng, b.output_scale, 0.6, 1.7),
        release_adoption=_unit(b.release_adoption * rng.uniform(0.5, 1.5)),
        release_delay_hours=_scale(rng, b.release_delay_hours, 0.6, 1.7),
        burst_size=_scale(rng, b.burst_size, 1 / 3, 3),
        burst_prob=min(_scale(rng, b.burst_prob, 0.5, 2), 1.0),
        relay_share=_share(rng, b.relay_share),
        mix_spread=float(rng.uniform(0.0, 1.0)),
    )
    count, seed = _templates(b, rng)
    declared = _declarations(b, rng)
    tiers = _tiers(b, rng)
    suite_share, suite_size, resample_share = _repeats(b, rng)
    return dataclasses.replace(
        drawn,
        operator_templates=count,
        operator_seed=seed,
        org_declared=declared,
        tiers=tiers,
        suite_share=suite_share,
        suite_size=suite_size,
        resample_share=resample_share,
    )


def _templates(b: Behaviour, rng: np.random.Generator) -> tuple[int, int]:
    """Whether the population shares one pool of instruction templates in this world, how
    many and from which seed. Drawn after every other knob, so those stay as an older world
    drew them; a preset's own templates are kept."""
    shared, count, seed = rng.random(), _scale(rng, 1.0, 2, 40), int(rng.integers(2**31))
    if b.operator_templates or shared >= b.template_odds:
        return b.operator_templates, b.operator_seed
    return round(count), seed  # count is in [2, 40), so 2 to 40 templates


def _declarations(b: Behaviour, rng: np.random.Generator) -> float | None:
    """Whether who declares an organisation follows the archetype in this world (chance
    0.7) or a share drawn uniform(0, 1) for every card group, campaigns and customers
    alike; a preset's own share is kept. Drawn after the templates, so every earlier knob
    stays as an older world drew it."""
    redrawn, share = rng.random(), float(rng.uniform(0.0, 1.0))
    if b.org_declared is not None or redrawn >= DECLARATION_ODDS:
        return b.org_declared
    return share


def _tiers(b: Behaviour, rng: np.random.Generator) -> Mix:
    """The archetype's tier mix (chance 0.7), or one drawn over every tier, for campaigns
    and customers alike. Drawn last, so every earlier knob stays as an older world drew it."""
    redrawn, weights = rng.random(), rng.dirichlet(np.full(len(TIERS), TIER_ALPHA))
    if redrawn >= TIER_ODDS:
        return b.tiers
    return {name: float(w) for name, w in zip(TIERS, weights, strict=True)}


def _repeats(b: Behaviour, rng: np.random.Generator) -> tuple[float, int, float]:
    """How much of a population's prompts repeat: its suite's share and size, and (for a
    campaign, with chance RESAMPLE_ODDS) the share it resamples. Drawn after the tiers, so
    every earlier knob stays as an older world drew it."""
    share = min(max(b.suite_share * rng.uniform(0.4, 1.6), 0.05), 0.95)
    size = _count(rng, b.suite_size)
    resampled, resample = rng.random(), float(rng.uniform(*RESAMPLE_SHARES))
    keep = b.resample_share or b.label != "attack" or resampled >= RESAMPLE_ODDS
    return (share if b.suite_share else 0.0), size, (b.resample_share if keep else resample)


def randomize_accounts(accounts: float, rng: np.random.Generator) -> float:
    return _scale(rng, accounts, 0.6, 1.6)


def population_rng(seed: int, index: int) -> np.random.Generator:
    """The generator for population `index`'s knobs, apart from the traffic's own draws."""
    return np.random.default_rng([seed, 0x52414E44, index])
