"""How a population behaves: every knob a preset can set, with the archetypes' defaults.

A population is an archetype plus the preset's overrides. Benign archetypes are each a hard
negative for some signal (shared agent prompts, templated pipelines, release-day eval
bursts, cloud IPs, step-by-step homework); attack archetypes differ only in behaviour an
operator must show at scale: volume, capability coverage, reasoning-rich outputs, many
accounts that share cards, sign-up bursts and short lives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Mix = dict[str, float]


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


CARD_SHARING = ("unique", "family", "org", "team", "pool")


ARCHETYPES: dict[str, Behaviour] = {
    "casual": Behaviour(
        tiers={"free": 0.75, "paid": 0.25},
        task_mix={
            "chat": 0.62,
            "query": 0.1,
            "code": 0.1,
            "homework": 0.05,
            "vision": 0.05,
            "tool_use": 0.075,
            "trace": 0.005,
        },
        session_turns=3.0,
        signup_in_window=0.15,
        clients={"web-app": 0.7, "python-sdk": 0.1, "openai-compat": 0.1, "ts-sdk": 0.1},
        networks={"residential": 0.6, "mobile": 0.3, "vpn": 0.1},
    ),
    "power_user": Behaviour(
        tiers={"paid": 0.9, "free": 0.1},
        rate_per_day=40,
        active_prob=0.7,
        task_mix={
            "chat": 0.3,
            "code": 0.25,
            "math": 0.15,
            "data_analysis": 0.13,
            "computer_use": 0.02,
            "vision": 0.05,
            "trace": 0.01,
            "grading": 0.04,
            "query": 0.05,
        },
        cot_share=0.1,
        session_turns=5.0,
        thinking_share=0.5,
        output_scale=1.6,
        clients={"web-app": 0.5, "python-sdk": 0.3, "openai-compat": 0.2},
        release_adoption=0.7,
        release_delay_hours=6,
        networks={"residential": 0.7, "vpn": 0.2, "mobile": 0.1},
    ),
    "coding_agent": Behaviour(
        template_odds=0.5,
        tiers={"paid": 0.6, "enterprise": 0.25, "startup": 0.15},
        rate_per_day=60,
        active_prob=0.65,
        weekend_factor=0.3,
        hours="business",
        task_mix={"agentic_coding": 0.85, "code": 0.15},
        session_turns=14.0,
        clients={"coding-agent": 0.7, "ide-agent": 0.3},
        thinking_share=0.5,
        networks={"residential": 0.5, "office": 0.4, "vpn": 0.1},
        card_sharing="unique",
        release_adoption=0.6,
        release_delay_hours=8,
    ),
    "batch_pipeline": Behaviour(
        template_odds=0.5,
        tiers={"enterprise": 1.0},
        rate_per_day=900,
        rate_sigma=0.7,
        active_prob=0.97,
        hours="flat",
        task_mix={"grading": 0.3, "chat": 0.4, "data_analysis": 0.2, "code": 0.1},
        templated=True,
        clients={"python-sdk": 0.5, "http": 0.3, "openai-compat": 0.2},
        networks={"cloud": 1.0},
        ip_rotation=0.02,
        card_sharing="org",
        card_pool=8,
        thinking_share=0.0,
        output_scale=0.3,
        release_adoption=0.05,
        signup_in_window=0.0,
    ),
    "eval_runner": Behaviour(
        template_odds=0.5,
        tiers={"research": 0.5, "education": 0.3, "enterprise": 0.2},
        rate_per_day=0.0,
        hours="burst",
        burst_size=1500,
        burst_prob=0.08,
        release_burst_prob=0.9,
        task_mix={"math": 0.35, "code": 0.35, "tool_use": 0.2, "grading": 0.1},
        cot_share=0.5,
        session_turns=1.0,
        thinking_share=0.4,
        output_scale=1.4,
        clients={"python-sdk": 0.6, "openai-compat": 0.4},
        networks={"cloud": 0.6, "office": 0.4},
        card_sharing="unique",
        release_adoption=1.0,
        release_delay_hours=0.5,
    ),
    "app_backend": Behaviour(
        tiers={"paid": 0.5, "enterprise": 0.5},
        rate_per_day=1200,
        rate_sigma=1.0,
        active_prob=1.0,
        hours="human",
        app_system_prompt=True,
        task_mix={"chat": 0.45, "tool_use": 0.3, "query": 0.15, "vision": 0.05, "code": 0.05},
        session_turns=2.5,
        clients={"python-sdk": 0.4, "ts-sdk": 0.3, "openai-compat": 0.3},
        networks={"cloud": 1.0},
        ip_rotation=0.1,
        card_sharing="unique",
        release_adoption=0.1,
        signup_in_window=0.05,
    ),
    "ci_agent": Behaviour(
        template_odds=0.5,
        tiers={"enterprise": 0.6, "startup": 0.4},
        rate_per_day=150,
        active_prob=0.9,
        weekend_factor=0.2,
        hours="business",
        task_mix={"agentic_coding": 0.8, "code": 0.1, "computer_use": 0.1},
        session_turns=12.0,
        clients={"coding-agent": 1.0},
        networks={"cloud": 1.0},
        ip_rotation=0.9,
        card_sharing="org",
        card_pool=4,
        thinking_share=0.3,
        release_adoption=0.3,
        signup_in_window=0.05,
    ),
    "student": Behaviour(
        tiers={"education": 0.8, "free": 0.2},
        rate_per_day=8,
        active_prob=0.3,
        hours="evening",
        task_mix={"homework": 0.6, "math": 0.2, "code": 0.1, "chat": 0.1},
        cot_share=0.4,
        session_turns=2.5,
        clients={"web-app": 0.85, "python-sdk": 0.15},
        networks={"residential": 0.5, "mobile": 0.3, "office": 0.2},
        signup_in_window=0.2,
    ),
    "reasoning": Behaviour(
        template_odds=0.5,
        label="attack",
        tiers={"paid": 0.5, "free": 0.2, "startup": 0.3},
        rate_sigma=0.15,
        active_prob=0.95,
        hours="sync",
        task_mix={"math": 0.3, "trace": 0.2, "grading": 0.2, "rewrite": 0.15, "chat": 0.15},
        cot_share=0.7,
        session_turns=1.0,
        thinking_share=0.6,
        output_scale=2.0,
        clients={"python-sdk": 0.6, "openai-compat": 0.4},
        networks={"cloud": 0.5, "vpn": 0.3, "residential": 0.2},
        ip_rotation=0.3,
        signup_in_window=0.4,
        signup_burst=12,
        signup_ips=6,
        card_sharing="pool",
        card_pool=8,
        release_adoption=0.5,
        release_delay_hours=24,
    ),
    "agentic": Behaviour(
        template_odds=0.5,
        label="attack",
        tiers={"education": 0.25, "research": 0.2, "startup": 0.25, "paid": 0.3},
        rate_sigma=0.5,
        active_prob=0.85,
        hours="flat",
        task_mix={
            "agentic_coding": 0.25,
            "tool_use": 0.2,
            "code": 0.2,
            "data_analysis": 0.15,
            "computer_use": 0.1,
            "vision": 0.1,
        },
        late_task_mix={
            "agentic_coding": 0.2,
            "tool_use": 0.1,
            "code": 0.15,
            "trace": 0.35,
            "data_analysis": 0.1,
            "computer_use": 0.05,
            "vision": 0.05,
        },
        late_phase_day=9,
        cot_share=0.3,
        session_turns=6.0,
        thinking_share=0.5,
        output_scale=1.5,
        clients={"python-sdk": 0.35, "openai-compat": 0.35, "coding-agent": 0.3},
        networks={"cloud": 0.6, "residential": 0.2, "vpn": 0.2},
        ip_rotation=0.2,
        signup_in_window=0.3,
        signup_burst=20,
        signup_ips=15,
        card_sharing="pool",
        card_pool=4,
        release_adoption=0.4,
        release_delay_hours=36,
    ),
    "hydra": Behaviour(
        template_odds=0.5,
        label="attack",
        tiers={"free": 0.3, "paid": 0.6, "startup": 0.1},
        rate_sigma=0.6,
        active_prob=0.9,
        hours="flat",
        relay_share=0.3,
        task_mix={"agentic_coding": 0.5, "code": 0.3, "tool_use": 0.2},
        cot_share=0.1,
        session_turns=8.0,
        thinking_share=0.3,
        output_scale=1.3,
        clients={"coding-agent": 0.4, "ide-agent": 0.2, "openai-compat": 0.4},
        networks={"proxy": 0.8, "residential": 0.2},
        ip_rotation=0.8,
        signup_in_window=1.0,
        signup_burst=50,
        signup_ips=40,
        card_sharing="pool",
        card_pool=5,
        lifetime_days=3.0,
        release_adoption=0.5,
        release_delay_hours=4,
    ),
    "adaptive": Behaviour(
        template_odds=0.5,
        label="attack",
        tiers={"paid": 0.7, "startup": 0.2, "education": 0.1},
        rate_per_day=6,
        rate_sigma=0.3,
        active_prob=0.8,
        weekend_factor=0.3,
        hours="business",
        task_mix={
            "math": 0.2,
            "code": 0.2,
            "agentic_coding": 0.15,
            "data_analysis": 0.1,
            "tool_use": 0.1,
            "chat": 0.25,
        },
        cot_share=0.0,
        session_turns=2.0,
        thinking_share=0.7,
        output_scale=1.8,
        clients={"python-sdk": 0.5, "web-app": 0.2, "coding-agent": 0.3},
        networks={"residential": 0.9, "mobile": 0.1},
        ip_rotation=0.05,
        signup_in_window=0.0,
        card_sharing="unique",
        lifetime_days=10.0,
        release_adoption=0.4,
        release_delay_hours=48,
    ),
}
