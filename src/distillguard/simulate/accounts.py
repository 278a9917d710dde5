"""Accounts of one population: sign-up, tier, card, network, client and rate, as columns.

Sign-up fields come from one model for everyone: P(verified | tier) and P(card | tier) are
the same for benign and attack accounts. What operators do at scale shows only through the
behaviour knobs: card pools, sign-up bursts from few addresses, short lives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from distillguard.simulate.behaviour import Behaviour
from distillguard.simulate.clients import CLIENTS
from distillguard.simulate.config import PopulationPlan
from distillguard.simulate.ids import email_domains, hex_ids
from distillguard.simulate.individual import Leanings, draw_leanings
from distillguard.simulate.network import UTC_OFFSET_HOURS, draw_addresses, draw_countries

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
P_VERIFIED = {
    "free": 0.2,
    "paid": 0.5,
    "enterprise": 0.95,
    "education": 0.6,
    "research": 0.7,
    "startup": 0.6,
}
P_CARD = {
    "free": 0.3,
    "paid": 1.0,
    "enterprise": 1.0,
    "education": 0.4,
    "research": 0.6,
    "startup": 0.9,
}


@dataclass
class AccountMemo:
    """Per-account choices made once, on first use: pipeline templates, app prompts and the
    suites that CI and eval harnesses rerun."""

    templates: dict[int, tuple[str, str]] = field(default_factory=dict)
    app_prompts: dict[int, str] = field(default_factory=dict)
    operator: dict[str, list[str]] = field(default_factory=dict)  # kind -> templates
    suites: dict[tuple[int, str], list[str]] = field(default_factory=dict)  # (account, kind)


@dataclass
class AccountBlock:
    """Every account of one population, one entry per account in each column."""

    plan: PopulationPlan
    account_id: list[str]
    tier: list[str]
    created_ms: np.ndarray
    use_start_ms: np.ndarray
    use_end_ms: np.ndarray
    rate: np.ndarray
    country: list[str]
    tz_hours: np.ndarray
    client: list[str]
    user_agent: list[str]
    access_path: list[str]
    network: list[str]
    ip: list[str]
    asn: np.ndarray
    adopter: np.ndarray
    phase: np.ndarray
    keys: list[list[str]]  # API keys of each account
    table: pa.Table  # the accounts rows as exchange-log writes them
    memo: AccountMemo = field(default_factory=AccountMemo)
    leanings: Leanings | None = None  # each account's own mix, where the population spreads

    def __len__(self) -> int:
        return len(self.account_id)


def pick(mix: dict[str, float], rng: np.random.Generator, n: int) -> list[str]:
    names = list(mix)
    weights = np.asarray([mix[k] for k in names], dtype=float)
    return [names[i] for i in rng.choice(len(names), size=n, p=weights / weights.sum())]


def _usage(
    plan: PopulationPlan, rng: np.random.Generator, start_ms: int, days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(created, use_start, use_end) in ms for each account."""
    b, n = plan.behaviour, plan.accounts
    window = days * DAY_MS
    fresh = rng.random(n) < b.signup_in_window
    if b.lifetime_days:
        life = min(b.lifetime_days * DAY_MS, window)
        lives = max(1, round(window / life))
        if lives == 1:
            use_start = start_ms + rng.uniform(0, window - life, n)
        else:  # successive generations replace the accounts that were burned
            slot = np.arange(n) % lives
            use_start = start_ms + slot * (window - life) / (lives - 1)
            use_start = use_start + rng.uniform(0, 0.3 * life, n)
        use_end = np.minimum(use_start + life * rng.uniform(0.6, 1.4, n), start_ms + window)
    else:
        use_start = np.where(fresh, start_ms + rng.uniform(0, 0.9 * window, n), start_ms)
        use_end = np.full(n, start_ms + window, dtype=float)
    aged = start_ms - rng.uniform(10, 900, n) * DAY_MS
    created = np.where(fresh, use_start - rng.exponential(2 * HOUR_MS, n), aged)
    return created.astype(np.int64), use_start.astype(np.int64), use_end.astype(np.int64)


def _bursts(created: np.ndarray, start_ms: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sign-ups in batches: accounts created together within minutes of each other."""
    order = np.argsort(created)
    batch = np.arange(len(created)) // max(size, 1)
    first = created[order][batch * max(size, 1)]
    out = created.copy()
    out[order] = first + rng.integers(0, 15 * 60_000, len(created))
    return np.where(created > start_ms - DAY_MS, out, created)


def _card_groups(b: Behaviour, n: int, rng: np.random.Generator) -> np.ndarray:
    """Which accounts pay with the same card: one group number per account."""
    pool = max(b.card_pool, 1)
    if b.card_sharing in ("org", "team"):
        return np.arange(n) // pool
    if b.card_sharing == "pool":
        return rng.integers(0, max(n // pool, 1), n)
    if b.card_sharing == "family":
        shared = rng.random(n) < b.card_share_prob
        return np.where(shared, rng.integers(0, max(n // 3, 1), n), np.arange(n) + n)
    return np.arange(n)


def _cards(
    plan: PopulationPlan, tiers: list[str], rng: np.random.Generator
) -> tuple[list[str | None], list[str | None], np.ndarray]:
    """(payment fingerprint, org id, card group) per account. An org declares itself; a
    team of a small company pays with one card without declaring anything; with
    org_declared set, each card group declares one organisation by chance."""
    n, b = len(tiers), plan.behaviour
    has_card = rng.random(n) < np.asarray([P_CARD[t] for t in tiers])
    groups = _card_groups(b, n, rng)
    card_ids = hex_ids("pm_", rng, int(groups.max()) + 1)
    org_ids = hex_ids("org_", rng, int(groups.max()) + 1, 12)
    always = b.card_sharing in ("org", "team")
    cards = [
        card_ids[g] if c or always else None for g, c in zip(groups.tolist(), has_card, strict=True)
    ]
    own_orgs = hex_ids("org_", rng, n, 12)
    # Without the knob nothing more is drawn, so those worlds are as before; with it, every
    # later draw of make_accounts moves. A card group's members without a card of their own
    # (a family's, a pool's) declare its organisation too: they are its people.
    if b.org_declared is not None:
        declares = rng.random(len(org_ids)) < b.org_declared
        return cards, [org_ids[g] if declares[g] else None for g in groups.tolist()], groups
    orgs: list[str | None] = [
        org_ids[g] if b.card_sharing == "org" else (own_orgs[i] if t == "enterprise" else None)
        for i, (g, t) in enumerate(zip(groups.tolist(), tiers, strict=True))
    ]
    return cards, orgs, groups


def _share_office(
    groups: np.ndarray, ips: list[str], asns: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """A team works from one office: every member gets its first member's address."""
    first: dict[int, int] = {}
    for i, g in enumerate(groups.tolist()):
        first.setdefault(g, i)
    lead = np.asarray([first[g] for g in groups.tolist()], dtype=np.int64)
    return [ips[j] for j in lead.tolist()], asns[lead]


def _home_addresses(
    networks: list[str], countries: list[str], rng: np.random.Generator
) -> tuple[list[str], np.ndarray]:
    ips: list[str] = [""] * len(networks)
    asns = np.zeros(len(networks), dtype=np.int64)
    for kind in sorted(set(networks)):
        where = [i for i, k in enumerate(networks) if k == kind]
        drawn = draw_addresses(kind, rng, len(where), [countries[i] for i in where])
        for j, i in enumerate(where):
            ips[i] = drawn.ip[j]
        asns[where] = drawn.asn
    return ips, asns


def _keys(rng: np.random.Generator, n: int) -> list[list[str]]:
    counts = rng.integers(1, 4, n)
    flat = hex_ids("key_", rng, int(counts.sum()), 20)
    ends = np.cumsum(counts)
    return [flat[e - c : e] for c, e in zip(counts.tolist(), ends.tolist(), strict=True)]


def make_accounts(
    plan: PopulationPlan, rng: np.random.Generator, start_ms: int, days: int
) -> AccountBlock:
    b, n = plan.behaviour, plan.accounts
    tiers = pick(b.tiers, rng, n)
    created, use_start, use_end = _usage(plan, rng, start_ms, days)
    if b.signup_burst:
        created = _bursts(created, start_ms, b.signup_burst, rng)
    countries = draw_countries(rng, n)
    networks = pick(b.networks, rng, n)
    ips, asns = _home_addresses(networks, countries, rng)
    if b.signup_ips:
        pool = draw_addresses(networks[0], rng, b.signup_ips)
        signup_ips = [pool.ip[i] for i in rng.integers(0, b.signup_ips, n)]
    else:
        signup_ips = ips
    clients = pick(b.clients, rng, n)
    profiles = [CLIENTS[c] for c in clients]
    cards, orgs, groups = _cards(plan, tiers, rng)
    if b.card_sharing == "team":  # one office: home and sign-up address alike
        ips, asns = _share_office(groups, ips, asns)
        signup_ips = ips
    ids = hex_ids("acct_", rng, n)
    verified = rng.random(n) < np.asarray([P_VERIFIED[t] for t in tiers])
    table = pa.table(
        {
            "account_id": ids,
            "created_at": pa.array(created, pa.timestamp("ms", tz="UTC")),
            "tier": tiers,
            "verified": verified,
            "payment_fingerprint": cards,
            "email_domain": email_domains(tiers, rng),
            "signup_ip": signup_ips,
            "signup_country": countries,
            "org_id": orgs,
        }
    )
    adoption = min(1.0, b.release_adoption * 1.5)
    return AccountBlock(
        plan=plan,
        account_id=ids,
        tier=tiers,
        created_ms=created,
        use_start_ms=use_start,
        use_end_ms=use_end,
        rate=plan.rate_per_day * rng.lognormal(-(b.rate_sigma**2) / 2, b.rate_sigma, n),
        country=countries,
        tz_hours=np.asarray([UTC_OFFSET_HOURS[c] for c in countries]),
        client=clients,
        user_agent=[p.user_agents[int(rng.integers(len(p.user_agents)))] for p in profiles],
        access_path=[p.access_paths[int(rng.integers(len(p.access_paths)))] for p in profiles],
        network=networks,
        ip=ips,
        asn=asns,
        adopter=rng.random(n) < adoption,
        phase=rng.random(n),
        table=table,
        keys=_keys(rng, n),
        leanings=draw_leanings(b, n, rng),  # last: worlds without spread draw as before
    )
