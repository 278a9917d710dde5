"""How a population behaves: every knob a preset can set, with its default.

A population is an archetype (simulate/originals.py, simulate/archetypes.py) plus the
preset's overrides of these knobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Mix = dict[str, float]
# Every account tier a population's `tiers` may name (simulate/accounts.py draws sign-up
# fields per tier; simulate/randomize.py may redraw a mix over all of them).
TIERS = ("free", "paid", "enterprise", "education", "research", "startup")


@dataclass(frozen=True)
class Behaviour:
    label: str = "benign"
    tiers: Mix = field(default_factory=lambda: {"free": 0.6, "paid": 0.4})
    rate_per_day: float = 3.0  # mean exchanges per active account-day
    rate_sigma: float = 0.8  # lognormal spread of rates across accounts
    active_prob: float = 0.4  # chance an account is active on a given day
    weekend_factor: float = 1.0
    hours: str = "human"  # human | business | evening | flat | sync | burst
    task_mix: Mix = field(default_factory=lambda: {"chat": 1.0})
    late_task_mix: Mix | None = None  # task mix after late_phase_day (a campaign's new phase)
    late_phase_day: int | None = None
    cot_share: float = 0.02  # share of prompts that ask for step-by-step reasoning
    session_turns: float = 1.5  # mean turns per session
    clients: Mix = field(default_factory=lambda: {"web-app": 0.7, "python-sdk": 0.3})
    networks: Mix = field(default_factory=lambda: {"residential": 0.7, "mobile": 0.3})
    ip_rotation: float = 0.05  # chance an exchange comes from a fresh address
    signup_in_window: float = 0.1  # share of accounts created during the window
    signup_burst: int = 0  # >0: accounts are created in batches of about this size
    signup_ips: int = 0  # >0: sign-ups come from this many addresses
    card_sharing: str = "family"  # unique | family | org | team | pool
    card_pool: int = 1  # accounts per card for org, team and pool sharing
    # family: chance an account shares a card with relatives or friends
    card_share_prob: float = 0.08
    lifetime_days: float | None = None  # burn-and-churn: days an account lives
    thinking_share: float = 0.05
    output_scale: float = 1.0
    release_adoption: float = 0.3  # share of traffic on the new model once adopted
    release_delay_hours: float = 72.0
    templated: bool = False  # one prompt template per account (batch pipelines)
    app_system_prompt: bool = False  # one system prompt per account (app backends)
    burst_size: float = 0.0  # hours == burst: exchanges per burst
    burst_prob: float = 0.1  # hours == burst: chance of a burst on an ordinary day
    release_burst_prob: float = 0.0  # ... on the release day
    relay_share: float = 0.0  # share of ordinary customers' traffic relayed (hydra)
    # >0: every prompt wraps a varying record in one of this many instruction templates of
    # one operator, drawn from operator_seed and not the world's seed, so the same operator
    # sends the same templates to every provider it harvests (indicator sharing benchmark).
    operator_templates: int = 0
    operator_seed: int = 0
    # Randomised worlds only: the chance that this population's accounts wrap their prompts
    # in one shared pool of instruction templates (simulate/randomize.py). For a campaign
    # that is its harvesting pipeline; for customers, a harness, agent or tool they all run.
    template_odds: float = 0.0
    # >0: each account leans its own way around the task mix, thinking, reasoning-prompt
    # and output knobs (log-normal spread; simulate/individual.py). 0: all follow the knobs.
    mix_spread: float = 0.0
    # None: an "org" card group declares its organisation and an enterprise account its
    # own. A share p: each card group declares one organisation with chance p, whoever it
    # is, consumers included (a campaign can type a company name at sign-up; a company
    # can leave it blank).
    org_declared: float | None = None
    # >0: this share of an account's prompts rerun its own fixed suite of suite_size prompts
    # per task kind (CI reruns its tests on every commit, an eval harness its benchmark on
    # every model), drawn on first use; the rest are new.
    suite_share: float = 0.0
    suite_size: int = 0
    # >0: this share of a campaign's prompts resend the account's previous prompt (sampling
    # one item several times, best-of-n), so repeats alone cannot tell customers apart.
    resample_share: float = 0.0


CARD_SHARING = ("unique", "family", "org", "team", "pool")
# The shapes of a day: schedule.py's hour profiles, plus bursts and synchronised starts.
HOURS = ("human", "business", "evening", "flat", "burst", "sync")
