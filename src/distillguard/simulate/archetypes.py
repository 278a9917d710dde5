"""Every archetype a preset can name: the originals, the hard negatives and the tactics.

Hard negatives are benign users who share what attackers share or ask what attackers ask:
small companies on one card and one office address without a declared organisation,
families on one card, reseller customers behind one egress pool, carrier-NAT and VPN
users, LLM-as-judge pipelines, synthetic-data jobs, computer-use products, cron scripts,
and teachers and policy researchers who ask for reasoning and sensitive rewrites.

Tactics are what the reports describe attackers doing to hide: bought or aged accounts of
mixed tiers over several access paths, sticky residential proxy exits, relaying ordinary
customers' traffic, sign-up waves, low-and-slow accounts inside ordinary sessions, and
accounts burned and replaced.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from distillguard.errors import ConfigError, unknown_name_error
from distillguard.simulate.behaviour import CARD_SHARING, HOURS, TIERS, Behaviour
from distillguard.simulate.originals import ARCHETYPES as BASE

HARD_NEGATIVES: dict[str, Behaviour] = {
    "small_team": Behaviour(
        tiers={"paid": 0.5, "startup": 0.5},
        rate_per_day=25,
        active_prob=0.7,
        weekend_factor=0.2,
        hours="business",
        task_mix={
            "code": 0.35,
            "agentic_coding": 0.2,
            "chat": 0.2,
            "data_analysis": 0.15,
            "math": 0.1,
        },
        cot_share=0.1,
        session_turns=5.0,
        thinking_share=0.4,
        output_scale=1.3,
        clients={"python-sdk": 0.3, "coding-agent": 0.3, "web-app": 0.2, "openai-compat": 0.2},
        networks={"office": 1.0},
        card_sharing="team",
        card_pool=6,
        signup_in_window=0.1,
    ),
    "family": Behaviour(
        tiers={"free": 0.5, "paid": 0.4, "education": 0.1},
        rate_per_day=5,
        task_mix={"chat": 0.5, "homework": 0.2, "query": 0.15, "code": 0.1, "vision": 0.05},
        session_turns=3.0,
        card_sharing="family",
        card_share_prob=0.7,
        clients={"web-app": 0.8, "python-sdk": 0.1, "ts-sdk": 0.1},
        networks={"residential": 0.7, "mobile": 0.3},
    ),
    "reseller_customer": Behaviour(
        tiers={"paid": 0.6, "free": 0.3, "startup": 0.1},
        rate_per_day=15,
        active_prob=0.5,
        task_mix={"chat": 0.35, "code": 0.25, "query": 0.15, "tool_use": 0.15, "math": 0.1},
        session_turns=3.0,
        clients={"openai-compat": 1.0},
        networks={"reseller": 1.0},
        ip_rotation=0.3,
        thinking_share=0.2,
    ),
    "shared_exit": Behaviour(  # carrier-grade NAT and VPN users: many per address
        tiers={"free": 0.6, "paid": 0.3, "education": 0.1},
        rate_per_day=6,
        task_mix={"chat": 0.55, "query": 0.15, "code": 0.15, "homework": 0.1, "vision": 0.05},
        session_turns=2.5,
        networks={"mobile": 0.6, "vpn": 0.4},
        ip_rotation=0.3,
        signup_in_window=0.2,
    ),
    "judge_pipeline": Behaviour(
        template_odds=0.5,
        tiers={"enterprise": 0.5, "research": 0.3, "startup": 0.2},
        rate_per_day=300,
        active_prob=0.8,
        hours="flat",
        task_mix={"grading": 0.8, "chat": 0.2},
        templated=True,
        cot_share=0.3,
        session_turns=1.0,
        clients={"python-sdk": 0.6, "openai-compat": 0.2, "http": 0.2},
        networks={"cloud": 0.8, "office": 0.2},
        card_sharing="unique",
        thinking_share=0.3,
        output_scale=0.8,
        signup_in_window=0.05,
    ),
    "synthetic_data": Behaviour(
        template_odds=0.5,
        tiers={"enterprise": 0.4, "startup": 0.4, "research": 0.2},
        rate_per_day=400,
        active_prob=0.7,
        hours="flat",
        task_mix={"math": 0.3, "code": 0.3, "chat": 0.2, "data_analysis": 0.2},
        templated=True,
        cot_share=0.5,
        session_turns=1.0,
        clients={"python-sdk": 0.7, "openai-compat": 0.3},
        networks={"cloud": 1.0},
        card_sharing="unique",
        thinking_share=0.5,
        output_scale=1.6,
        signup_in_window=0.1,
    ),
    "computer_use_product": Behaviour(
        template_odds=0.5,
        tiers={"enterprise": 0.5, "startup": 0.5},
        rate_per_day=250,
        active_prob=0.95,
        hours="human",
        app_system_prompt=True,
        task_mix={"computer_use": 0.6, "vision": 0.2, "tool_use": 0.2},
        session_turns=10.0,
        clients={"python-sdk": 0.6, "ts-sdk": 0.4},
        networks={"cloud": 1.0},
        ip_rotation=0.3,
        card_sharing="unique",
        thinking_share=0.2,
        signup_in_window=0.05,
    ),
    "script_runner": Behaviour(
        template_odds=0.5,
        tiers={"paid": 0.6, "free": 0.3, "startup": 0.1},
        rate_per_day=40,
        rate_sigma=1.0,
        active_prob=0.8,
        hours="sync",
        task_mix={"query": 0.3, "data_analysis": 0.3, "chat": 0.2, "code": 0.2},
        session_turns=1.0,
        clients={"http": 0.5, "python-sdk": 0.5},
        networks={"cloud": 0.5, "residential": 0.5},
        card_sharing="unique",
        thinking_share=0.05,
        output_scale=0.7,
    ),
    "teacher_researcher": Behaviour(
        tiers={"education": 0.5, "research": 0.4, "paid": 0.1},
        rate_per_day=15,
        active_prob=0.5,
        hours="business",
        task_mix={
            "homework": 0.25,
            "math": 0.2,
            "rewrite": 0.2,
            "trace": 0.1,
            "chat": 0.15,
            "grading": 0.1,
        },
        cot_share=0.6,
        session_turns=3.0,
        thinking_share=0.5,
        output_scale=1.4,
        clients={"web-app": 0.6, "python-sdk": 0.4},
        networks={"office": 0.5, "residential": 0.5},
    ),
}

TACTICS: dict[str, Behaviour] = {
    "bought_accounts": dataclasses.replace(
        BASE["agentic"],
        tiers={"free": 0.2, "paid": 0.3, "startup": 0.2, "education": 0.15, "research": 0.15},
        clients={"python-sdk": 0.35, "openai-compat": 0.35, "coding-agent": 0.15, "ts-sdk": 0.15},
        networks={"residential": 0.5, "cloud": 0.25, "reseller": 0.25},
        signup_in_window=0.0,
        signup_burst=0,
        signup_ips=0,
        card_sharing="unique",
        late_task_mix=None,
        late_phase_day=None,
    ),
    "sticky_proxy": dataclasses.replace(
        BASE["hydra"],
        networks={"proxy": 1.0},
        ip_rotation=0.02,
        lifetime_days=None,
        signup_in_window=0.3,
        relay_share=0.0,
    ),
    "relay": dataclasses.replace(
        BASE["hydra"],
        relay_share=0.6,
        networks={"proxy": 0.5, "reseller": 0.5},
        lifetime_days=None,
        signup_in_window=0.5,
    ),
    "signup_wave": dataclasses.replace(
        BASE["reasoning"],
        hours="flat",
        signup_in_window=1.0,
        signup_burst=60,
        signup_ips=3,
        card_sharing="unique",
    ),
    "low_and_slow": dataclasses.replace(
        BASE["adaptive"],
        hours="human",
        rate_per_day=4,
        session_turns=3.0,
        weekend_factor=0.8,
        task_mix={"chat": 0.4, "math": 0.2, "code": 0.2, "data_analysis": 0.1, "homework": 0.1},
        lifetime_days=None,
    ),
    "burn_churn": dataclasses.replace(
        BASE["adaptive"],
        rate_per_day=25,
        lifetime_days=2.0,
        signup_in_window=1.0,
        card_sharing="pool",
        card_pool=3,
        hours="flat",
    ),
}

ARCHETYPES: dict[str, Behaviour] = {**BASE, **HARD_NEGATIVES, **TACTICS}
_FIELDS = {f.name for f in dataclasses.fields(Behaviour)}
MAX_MIX_SPREAD = 3.0  # a log-normal sigma of 3 already spreads weights over 10^4


def behaviour(archetype: str, overrides: dict[str, Any]) -> Behaviour:
    """An archetype with a preset's overrides; unknown names raise with the valid ones."""
    if archetype not in ARCHETYPES:
        raise unknown_name_error("archetype", archetype, list(ARCHETYPES))
    unknown = sorted(set(overrides) - _FIELDS)
    if unknown:
        raise ConfigError(f"unknown knob(s) {unknown}; valid knobs: {', '.join(sorted(_FIELDS))}")
    try:
        b = dataclasses.replace(ARCHETYPES[archetype], **overrides)
    except TypeError as exc:
        raise ConfigError(f"archetype {archetype!r}: {exc}") from None
    if b.hours not in HOURS:  # else a KeyError once the schedule is drawn
        raise unknown_name_error("hours", b.hours, list(HOURS))
    if b.card_sharing not in CARD_SHARING:
        raise unknown_name_error("card_sharing", b.card_sharing, list(CARD_SHARING))
    for knob, valid in _mix_names().items():
        if (mix := getattr(b, knob)) is not None or knob != "late_task_mix":
            _check_mix(knob, mix, valid)
    _check_numbers(b)
    return b


def _check_numbers(b: Behaviour) -> None:
    """The knobs a YAML preset may give as any type: each a number in its range."""
    if not _in_range(b.mix_spread, 0, MAX_MIX_SPREAD):
        raise ConfigError(f"mix_spread must be a number from 0 to {MAX_MIX_SPREAD}")
    if b.org_declared is not None and not _in_range(b.org_declared, 0, 1):
        raise ConfigError("org_declared must be empty or a number from 0 to 1")
    if not _in_range(b.template_odds, 0, 1):
        raise ConfigError("template_odds must be a number from 0 to 1")
    for knob in ("suite_share", "resample_share"):
        if not _in_range(getattr(b, knob), 0, 0.95):
            raise ConfigError(f"{knob} must be a number from 0 to 0.95")
    if not isinstance(b.suite_size, int) or not _in_range(b.suite_size, 0, 100_000):
        raise ConfigError("suite_size must be a whole number from 0 to 100000")
    if b.suite_share and not b.suite_size:  # else every rerun is one prompt, unsaid
        raise ConfigError("suite_share needs a suite_size of 1 or more")
    if not isinstance(b.operator_templates, int) or not _in_range(b.operator_templates, 0, 1000):
        raise ConfigError("operator_templates must be a whole number from 0 to 1000")
    # NumPy seeds from any non-negative integer; a negative or fractional one failed deep in
    # the simulation, after the preset had been read.
    if not isinstance(b.operator_seed, int) or not _in_range(b.operator_seed, 0, 2**63 - 1):
        raise ConfigError("operator_seed must be a whole number from 0 up")


def _mix_names() -> dict[str, list[str]]:
    """The names each mix knob may weigh (else a KeyError once traffic is drawn)."""
    from distillguard.simulate.clients import CLIENTS
    from distillguard.simulate.content.grammar import TASK_KINDS
    from distillguard.simulate.network import NETWORKS

    tasks = list(TASK_KINDS)
    return {"tiers": list(TIERS), "task_mix": tasks, "late_task_mix": tasks,
            "clients": list(CLIENTS), "networks": list(NETWORKS)}  # fmt: skip


def _check_mix(knob: str, mix: object, valid: list[str]) -> None:
    """A mapping of known names to non-negative weights, some above 0."""
    if not isinstance(mix, dict) or not mix:
        raise ConfigError(f"{knob} must be a mapping of names to weights, got {mix!r}")
    for name, weight in mix.items():
        if name not in valid:
            raise unknown_name_error(knob, str(name), valid)
        if not _in_range(weight, 0, float("inf")):
            raise ConfigError(f"{knob}: the weight of {name!r} must be a number from 0 up")
    if not sum(mix.values()) > 0:
        raise ConfigError(f"{knob}: the weights add up to 0")


def _in_range(value: object, low: float, high: float) -> bool:
    """A number (not a bool) within [low, high]: YAML gives strings and bools as readily."""
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
