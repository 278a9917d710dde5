"""What the findings are about: flagged clusters, flagged accounts outside them, and
accounts listed for review, each with a uid that stays the same from run to run."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from distillguard.detect.results import AccountResult, ClusterResult
from distillguard.findings.lifecycle import PreviousFindings
from distillguard.scoring.evidence import Evidence

# uuid5 namespace of distillguard findings: uids are name-based, so the same account (or
# the same set of cluster members) gets the same uid in every run and every deployment.
NAMESPACE = uuid.UUID("5b0e8a34-2a8e-5d53-9f3c-6d1f5c1e0a21")
FLAGGED, REVIEW = "flagged", "review"
# An account a peer's indicators matched (share match): another provider's inference, a
# finding of its own kind, never one with detect's uid, which it overwrote in a SIEM.
PEER, PEER_MATCH = "peer", "peer_match"


def account_uid(account_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"account:{account_id}"))


def peer_match_uid(account_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"peer-match:account:{account_id}"))


def cluster_uid(members: Iterable[str]) -> str:
    return str(uuid.uuid5(NAMESPACE, "cluster:" + "\n".join(sorted(members))))


@dataclass(frozen=True)
class Subject:
    """One finding's subject: an account or a cluster, flagged or listed for review."""

    kind: str  # "account" or "cluster"
    uid: str
    key: str  # the account id or cluster id the run's other tables use
    tier: str  # FLAGGED or REVIEW
    score: float
    first_seen: datetime | None
    members: tuple[str, ...]
    evidence: tuple[Evidence, ...]

    @property
    def title(self) -> str:
        if self.kind == PEER_MATCH:
            return "Account matching a peer's shared indicators"
        if self.kind == "cluster":
            return f"Distillation cluster of {len(self.members)} accounts"
        if self.tier == REVIEW:
            return "Possible distillation account (review)"
        return "Distillation account"


def reported_accounts(accounts: Iterable[AccountResult]) -> list[AccountResult]:
    """Accounts with a finding of their own: flagged outside any cluster, or for review."""
    return [a for a in accounts if (a.flagged and a.cluster_id is None) or a.review]


def subjects(
    accounts: Iterable[AccountResult],
    clusters: Iterable[ClusterResult],
    previous: PreviousFindings,
) -> list[Subject]:
    flagged = sorted(
        (c for c in clusters if c.flagged), key=lambda c: (-len(c.accounts), c.cluster_id)
    )
    return [*_cluster_subjects(flagged, previous), *map(_account_subject, reported(accounts))]


def reported(accounts: Iterable[AccountResult]) -> list[AccountResult]:
    return sorted(reported_accounts(accounts), key=lambda a: a.account_id)


def _cluster_subjects(clusters: list[ClusterResult], previous: PreviousFindings) -> list[Subject]:
    taken: set[str] = set()
    out = []
    for c in clusters:
        uid = previous.match_cluster(set(c.accounts), taken) or _unused_uid(c.accounts, taken)
        taken.add(uid)
        out.append(
            Subject(
                "cluster",
                uid,
                c.cluster_id,
                FLAGGED,
                c.score,
                c.first_flagged_at,
                c.accounts,
                c.evidence,
            )
        )
    return out


def _unused_uid(members: tuple[str, ...], taken: set[str]) -> str:
    """The members' own uid, unless another cluster of this run continues the finding that
    has it (its members grew, then split off these): then the first free variant of it,
    so two findings of one run never share a uid."""
    uid, variant = cluster_uid(members), 0
    while uid in taken:
        variant += 1
        uid = cluster_uid((*members, f"#{variant}"))
    return uid


def _account_subject(a: AccountResult) -> Subject:
    if a.flagged_by == PEER:
        return Subject(PEER_MATCH, peer_match_uid(a.account_id), a.account_id, PEER, a.score,
                       a.first_flagged_at, (a.account_id,), a.evidence)  # fmt: skip
    return Subject(
        "account",
        account_uid(a.account_id),
        a.account_id,
        FLAGGED if a.flagged else REVIEW,
        a.score,
        a.first_flagged_at if a.flagged else a.first_review_at,
        (a.account_id,),
        a.evidence,
    )
