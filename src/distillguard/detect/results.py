"""Detection results: frozen records with their explanations, built from a replay."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from distillguard.detect.decide import ReplayState
from distillguard.detect.learned_evidence import LEARNED_EVIDENCE_FLOOR, learned_evidence
from distillguard.detect.replay import Replay
from distillguard.scoring import account as account_scoring
from distillguard.scoring.evidence import Evidence, Rule


@dataclass(frozen=True)
class AccountResult:
    account_id: str
    score: float
    flagged: bool
    flagged_by: str  # "account", "cluster", or "" when not flagged
    cluster_id: str | None
    first_flagged_at: datetime | None
    evidence: tuple[Evidence, ...]
    first_review_at: datetime | None = None  # own score first reached the review threshold

    @property
    def reasons(self) -> str:
        return "; ".join(e.title for e in self.evidence)

    @property
    def review(self) -> bool:
        """Listed for review: reached the review threshold on its own, and not flagged."""
        return self.first_review_at is not None and not self.flagged


@dataclass(frozen=True)
class ClusterResult:
    cluster_id: str
    accounts: tuple[str, ...]
    score: float
    flagged: bool
    first_flagged_at: datetime | None
    evidence: tuple[Evidence, ...]

    @property
    def reasons(self) -> str:
        return "; ".join(e.title for e in self.evidence)


def to_datetime(value: np.datetime64 | None) -> datetime | None:
    if value is None:
        return None
    seconds = value.astype("datetime64[ms]").astype(np.int64) / 1000
    return datetime.fromtimestamp(float(seconds), tz=UTC)


def _cluster_id(members: list[str]) -> str:
    return "c-" + hashlib.blake2b("|".join(sorted(members)).encode(), digest_size=5).hexdigest()


def _merge_flagged(replay: Replay) -> list[tuple[list[str], list[int]]]:
    """Flagged clusters from every tick, merged where they share accounts (union-find)."""
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    records = replay.state.flagged_clusters
    for record in records:
        for a in record.members[1:]:
            parent[find(a)] = find(record.members[0])
    groups: dict[str, tuple[set[str], list[int]]] = {}
    for i, record in enumerate(records):
        root = find(record.members[0])
        members, ids = groups.setdefault(root, (set(), []))
        members.update(record.members)
        ids.append(i)
    return [(sorted(m), ids) for m, ids in groups.values()]


def _learned(
    state: ReplayState, account: str, by: str, evidence: list[Evidence]
) -> tuple[float, list[Evidence]]:
    """With the combiner deciding: an account's score is its k-th highest tick probability,
    or for one flagged with its cluster first (whose flag did not wait for its ticks), its
    highest. Its explanation quotes the features at its highest tick: always when it is
    flagged, and for an account under the line when that tick reached the evidence floor,
    even if its k-th highest did not (the analyst sees why it came close), with the reason
    it was listed and not flagged when it was over the line linked to no other account."""
    peak = state.peak_of(account)
    score = peak if by == "cluster" else state.learned_score[account]
    if peak < LEARNED_EVIDENCE_FLOOR and not by:
        return score, evidence
    lone = not by and account in state.lone_over  # over combiner_flag, held by the lone line
    return score, [learned_evidence(state.facts_of(account), peak, lone), *evidence]


def build_results(
    replay: Replay, extra_rules: tuple[Rule, ...] = ()
) -> tuple[list[AccountResult], list[ClusterResult]]:
    clusters = _flagged_clusters(replay)
    cluster_of = {a: c.cluster_id for c in clusters for a in c.accounts}
    accounts = [
        _account_result(replay, account, row, cluster_of.get(account), extra_rules)
        for account, row in sorted(replay.best_row().items())
    ]
    return accounts, clusters


def _flagged_clusters(replay: Replay) -> list[ClusterResult]:
    """One result per group of flagged clusters the replay merged, with the score and
    evidence of its best and the tick of its first."""
    records = replay.state.flagged_clusters
    clusters = []
    for members, ids in _merge_flagged(replay):
        best = max(ids, key=lambda i: records[i].score)
        first = to_datetime(min(records[i].tick for i in ids))
        clusters.append(
            ClusterResult(
                _cluster_id(members),
                tuple(members),
                records[best].score,
                True,
                first,
                tuple(records[best].evidence),
            )
        )
    return clusters


def _account_result(
    replay: Replay, account: str, row: int, cluster: str | None, extra_rules: tuple[Rule, ...]
) -> AccountResult:
    """An account at its best row: flagged on its own or by its cluster, whichever first."""
    state = replay.state
    own_flag = state.account_flag.get(account)
    flags = [t for t in (own_flag, state.cluster_flag.get(account)) if t is not None]
    first = min(flags) if flags else None
    by = "" if first is None else ("account" if own_flag == first else "cluster")
    own = float(replay.scores.score[row])
    in_cluster = state.cluster_score.get(account, 0.0) if account in state.cluster_flag else 0.0
    score = max(own, in_cluster)
    evidence = replay.scores.evidence(account_scoring.RULES + extra_rules, replay.rows, row)
    if account in state.learned_score:  # the combiner decided
        score, evidence = _learned(state, account, by, evidence)
    return AccountResult(
        account,
        round(score, 4),
        first is not None,
        by,
        cluster,
        to_datetime(first),
        tuple(evidence),
        to_datetime(state.account_review.get(account)),
    )
