"""Cluster evidence: what a group of linked accounts shows together that none shows alone.

Shared cards across unrelated accounts, sign-up bursts from one network, one sign-up
address for many accounts, and the members' own evidence and collective reach. A cluster
needs several of these to score high, so one shared key between two benign accounts
(a family card, a shared office network) does not make a campaign.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from distillguard.linking.graph import Links
from distillguard.profiles.hourly import VALUABLE
from distillguard.scoring.evidence import (
    Arrays,
    Rule,
    Scored,
    hour_entropy,
    noisy_or,
    ramp,
    saturate,
)


@dataclass(frozen=True)
class ClusterFrame:
    """Per-cluster aggregates at one tick; row i describes cluster `ids[i]`."""

    ids: np.ndarray
    arrays: dict[str, np.ndarray]
    members: list[np.ndarray]  # account ids per cluster
    of_row: np.ndarray  # per account row given, its cluster's row here (-1: not linked)


def declared_members(accounts: np.ndarray, orgs: np.ndarray) -> frozenset[str]:
    """Accounts that declare an organisation (org ids arrive as None or NaN when absent)."""
    return frozenset(
        str(a)
        for a, org in zip(accounts.tolist(), orgs.tolist(), strict=True)
        if isinstance(org, str) and org
    )


def _sharers(
    edges: Links, cluster_of: dict[str, int], kind: str, declared: frozenset[str], n_clusters: int
) -> np.ndarray:
    """Per cluster: how many members hold a key of this kind that another member holds
    (for cards, members in `declared` do not count, whichever organisation each declares:
    the rules trust a declaration; the combiner reads the count without it)."""
    sharing: dict[int, set[str]] = {}
    for holders in edges.holders(kind).values():
        by_cluster: dict[int, list[str]] = {}
        for account in holders:
            if account in cluster_of and (kind != "card" or account not in declared):
                by_cluster.setdefault(cluster_of[account], []).append(account)
        for cluster, members in by_cluster.items():
            if len(members) >= 2:
                sharing.setdefault(cluster, set()).update(members)
    out = np.zeros(n_clusters)
    for cluster, sharers in sharing.items():
        out[cluster] = len(sharers)
    return out


def cluster_frame(
    accounts: np.ndarray,
    account_arrays: Arrays,
    scores: np.ndarray,
    membership: dict[str, int],
    edges: Links,
    *,
    density: dict[str, float] | None = None,
) -> ClusterFrame:
    """Aggregate account rows (one per account, as of the tick) into their clusters."""
    labels = np.array([membership.get(a, -1) for a in accounts.tolist()])
    linked = labels >= 0
    ids, index = np.unique(labels[linked], return_inverse=True)
    k = len(ids)

    def total(name: str) -> np.ndarray:
        return np.bincount(index, weights=account_arrays[name][linked].astype(float), minlength=k)

    n = np.maximum(total("n"), 1.0)
    size = np.bincount(index, minlength=k).astype(float)
    weighted = np.bincount(index, weights=scores[linked] * account_arrays["n"][linked], minlength=k)
    entropy = hour_entropy(np.stack([total(f"hod_{h}") for h in range(24)], axis=1))
    caps = {c: total(f"cap_{c}") for c in VALUABLE}
    coverage = sum(((caps[c] / n >= 0.05) & (caps[c] >= 5)).astype(float) for c in VALUABLE)
    declared = declared_members(accounts, account_arrays["org_id"])
    cluster_of = {a: int(index[j]) for j, a in enumerate(accounts[linked].tolist())}
    in_block = np.array([(density or {}).get(a, 0.0) for a in accounts[linked].tolist()])
    arrays = {
        "size": size,
        "n": n,
        "n_elicit": total("n_elicit"),
        "n_rich": total("n_rich"),
        "elicit_share": total("n_elicit") / n,
        "rich_share": total("n_rich") / n,
        "member_score": weighted / n,
        "entropy": entropy,
        "coverage": coverage,
        "shared_card": _sharers(edges, cluster_of, "card", declared, k),
        # The same count with declared organisations' members in: a rule may trust a
        # declaration, a learned input may not (a campaign can type a company name).
        "shared_card_any": _sharers(edges, cluster_of, "card", frozenset(), k),
        "signup_burst": _sharers(edges, cluster_of, "signup_burst", declared, k),
        "shared_signup_ip": _sharers(edges, cluster_of, "signup_ip", declared, k),
        # Fraudar: the share of members inside a dense block of the key graph, and the
        # block's density (edge weight per node).
        "block_share": np.bincount(index, weights=(in_block > 0).astype(float), minlength=k)
        / np.maximum(size, 1.0),
        "block_density": _max_by(index, in_block, k),
    }
    order = np.argsort(index, kind="stable")
    members = np.split(accounts[linked][order], np.cumsum(np.bincount(index, minlength=k))[:-1])
    of_row = np.full(len(labels), -1, dtype=np.intp)
    of_row[linked] = index
    return ClusterFrame(ids, arrays, members, of_row)


def _max_by(index: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros(k)
    np.maximum.at(out, index, values)
    return out


RULES: tuple[Rule, ...] = (
    Rule(
        "shared_payment",
        "unrelated accounts share payment cards",
        "one operator funds many accounts",
        lambda f: 0.7 * ramp(f["shared_card"], 2, 5),
        lambda f, i: {"accounts_sharing_a_card": int(f["shared_card"][i])},
    ),
    Rule(
        "signup_burst",
        "accounts signed up in bursts from one network",
        "accounts were farmed in batches",
        lambda f: 0.55 * ramp(f["signup_burst"], 3, 8),
        lambda f, i: {"accounts_in_a_burst": int(f["signup_burst"][i])},
    ),
    Rule(
        "shared_signup_address",
        "accounts signed up from shared addresses",
        "one operator registers the accounts",
        lambda f: 0.5 * ramp(f["shared_signup_ip"], 3, 8),
        lambda f, i: {"accounts_sharing_a_signup_ip": int(f["shared_signup_ip"][i])},
    ),
    Rule(
        "dense_block",
        "members form a dense block of rare shared keys",
        "the accounts are run together",
        lambda f: 0.3 * ramp(f["block_share"], 0.5, 0.9) * ramp(f["block_density"], 2, 5),
        lambda f, i: {
            "share_of_members_in_block": round(float(f["block_share"][i]), 3),
            "block_density": round(float(f["block_density"][i]), 3),
        },
    ),
    Rule(
        "suspicious_members",
        "the members' own evidence",
        "the accounts behave like extraction accounts",
        lambda f: 0.9 * f["member_score"] * (f["size"] >= 2),
        lambda f, i: {
            "volume_weighted_member_score": round(float(f["member_score"][i]), 3),
            "accounts_linked_in_window": int(f["size"][i]),
        },
    ),
    Rule(
        "collective_elicitation",
        "together they elicit reasoning at volume",
        "a coordinated reasoning-trace harvest",
        lambda f: 0.7 * f["elicit_share"] * saturate(f["n_elicit"], 300),
        lambda f, i: {
            "eliciting_exchanges": int(f["n_elicit"][i]),
            "share": round(float(f["elicit_share"][i]), 3),
        },
    ),
    Rule(
        "collective_coverage",
        "together they cover many capabilities with rich outputs",
        "a coordinated capability sweep",
        lambda f: (
            0.5
            * ramp(f["coverage"], 2, 5)
            * ramp(f["rich_share"], 0.2, 0.6)
            * saturate(f["n"], 2000)
        ),
        lambda f, i: {
            "capabilities": int(f["coverage"][i]),
            "rich_share": round(float(f["rich_share"][i]), 3),
            "exchanges": int(f["n"][i]),
        },
    ),
)


def score_clusters(frame: ClusterFrame) -> Scored:
    return noisy_or(RULES, frame.arrays, len(frame.ids))
