"""With the rules deciding (decide_by="rules"): a linking tick's flagged clusters.

A cluster whose score reaches cluster_threshold is flagged with the members that bring
evidence of their own or share sign-up infrastructure with another account; sharing a
card is normal for a company, so a declared organisation's members sharing its card do
not count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from distillguard.detect.config import DetectConfig
from distillguard.detect.decide import ClusterRecord, ReplayState
from distillguard.linking.graph import Links
from distillguard.linking.keys import STRONG_KINDS
from distillguard.scoring.cluster import RULES as CLUSTER_RULES
from distillguard.scoring.cluster import ClusterFrame, declared_members
from distillguard.scoring.evidence import Scored


@dataclass(frozen=True)
class SharedInfrastructure:
    """Who in the window shares sign-up infrastructure with another account. Members of a
    declared organisation sharing its card are a company, not a fleet."""

    card: set[str]
    any_key: set[str]

    @classmethod
    def of(cls, edges: Links, arrays: dict[str, np.ndarray]) -> SharedInfrastructure:
        declared = declared_members(arrays["account_id"], arrays["org_id"])
        card = edges.sharing("card", 2, declared)
        others = {
            a
            for kind in STRONG_KINDS
            if kind != "card"
            for a in edges.sharing(kind, 2, frozenset())
        }
        return cls(card, card | others)


def rule_clusters(
    state: ReplayState,
    tick: np.datetime64,
    arrays: dict[str, np.ndarray],
    *,
    edges: Links,
    frame: ClusterFrame,
    scored: Scored,
    config: DetectConfig,
) -> None:
    """With the rules deciding: flagged clusters, and the members flagged with them."""
    shared = SharedInfrastructure.of(edges, arrays)
    own = dict(zip(arrays["account_id"].tolist(), arrays["member_score"].tolist(), strict=True))
    for j in np.flatnonzero(
        (scored.score >= config.cluster_threshold)
        & (frame.arrays["size"] >= config.cluster_min_accounts)
    ):
        # A member is flagged on a shared card alone (the fleet's replacement accounts are
        # caught on their first tick), on shared sign-up infrastructure plus some evidence of
        # its own (VPN exits and carrier NAT put strangers on one address), or on enough
        # evidence of its own.
        members = [
            a
            for a in frame.members[j].tolist()
            if a in shared.card
            or (a in shared.any_key and own.get(a, 0.0) >= config.member_floor)
            or own.get(a, 0.0) >= 2 * config.member_floor
        ]
        if len(members) < config.cluster_min_accounts:
            continue
        state.flagged_clusters.append(
            ClusterRecord(
                tick,
                members,
                float(scored.score[j]),
                scored.evidence(CLUSTER_RULES, frame.arrays, int(j)),
            )
        )
        for a in members:
            state.cluster_score[a] = max(state.cluster_score.get(a, 0.0), float(scored.score[j]))
            state.cluster_flag.setdefault(a, tick)
