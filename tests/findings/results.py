"""Hand-made detection results for the findings tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from distillguard.detect.results import AccountResult, ClusterResult
from distillguard.findings.lifecycle import PreviousFindings
from distillguard.findings.sink import RunResults
from distillguard.scoring.evidence import Evidence

T0 = datetime(2026, 2, 1, 12, tzinfo=UTC)
ELICITS = Evidence(
    "elicits_reasoning",
    "Elicits reasoning traces",
    {"eliciting_exchanges": 40, "share": 0.8, "sample_request_ids": ["r1", "r2"]},
    "harvests chain-of-thought outputs",
    0.83,
)
SHARED_CARD = Evidence(
    "shared_card",
    "Unrelated accounts share a card",
    {"accounts_sharing_a_card": 3},
    "one operator behind many accounts",
    0.9,
)


def account(
    account_id: str, score: float, *, flagged: bool = False, review: bool = False
) -> AccountResult:
    return AccountResult(
        account_id,
        score,
        flagged,
        "account" if flagged else "",
        None,
        T0 if flagged else None,
        (ELICITS,),
        T0 - timedelta(hours=3) if review or flagged else None,
    )


def cluster(members: tuple[str, ...], score: float = 0.98) -> ClusterResult:
    return ClusterResult("c-" + "-".join(members), members, score, True, T0, (SHARED_CARD, ELICITS))


def in_cluster(accounts: list[AccountResult], c: ClusterResult) -> list[AccountResult]:
    return [
        replace(a, flagged=True, flagged_by="cluster", cluster_id=c.cluster_id, first_flagged_at=T0)
        if a.account_id in c.accounts
        else a
        for a in accounts
    ]


def sample_run(previous: PreviousFindings | None = None, hours: int = 0) -> RunResults:
    """A flagged cluster of three, a flagged account alone, one for review, one benign."""
    c = cluster(("m1", "m2", "m3"))
    accounts = in_cluster(
        [
            account("m1", 0.4),
            account("m2", 0.3),
            account("m3", 0.2),
            account("solo", 0.93, flagged=True),
            account("maybe", 0.7, review=True),
            account("benign", 0.1),
        ],
        c,
    )
    return RunResults(
        tuple(accounts),
        (c,),
        T0 + timedelta(hours=hours),
        cluster_stats={c.cluster_id: (120, "reasoning 60%, coding 40%")},
        previous=previous or PreviousFindings(),
    )
