"""A cluster's members as the verdict store knows them.

The gateway learns who is in a cluster only from each account's own verdict naming it
(`verdicts publish` writes one for every member of a flagged cluster). So a verdict set on
a cluster reaches the accounts whose verdicts name it and nobody else, and clearing a
cluster's verdict leaves its members' own detector verdicts, which block them on their
own, unless they are cleared with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow.parquet as pq

from distillguard.errors import UserError
from distillguard.verdicts.model import Source, Verdict, now, subject_key
from distillguard.verdicts.store import VerdictStore


def members_of(store: VerdictStore, cluster: str) -> list[str]:
    """The accounts whose verdict in force names the cluster."""
    return sorted(v.subject for v in store.list() if v.kind == "account" and v.cluster == cluster)


def cluster_accounts(detect_out: Path, cluster: str) -> list[str]:
    """The accounts a detect run put in the cluster, flagged or not."""
    path = detect_out / "accounts.parquet"
    if not path.exists():
        raise UserError(f"--findings {detect_out} is not a detect output (no accounts.parquet)")
    rows = pq.read_table(path, columns=["account_id", "cluster_id"]).to_pylist()
    found = sorted(r["account_id"] for r in rows if r["cluster_id"] == cluster)
    if not found:
        raise UserError(f"no account of {detect_out} is in cluster {cluster}")
    return found


def link_members(store: VerdictStore, cluster: Verdict, accounts: list[str]) -> None:
    """Each account the cluster verdict's own analyst verdict, naming the cluster: how the
    store learns the members of a cluster no detector verdict names. `clear --cluster`
    lifts them with it."""
    linked = _linked(cluster.subject)
    for account in accounts:
        store.set(replace(cluster, subject=account, kind="account", evidence=linked,
                          cluster=cluster.subject))  # fmt: skip


def _linked(cluster: str) -> str:
    return f"cluster:{cluster}"


def linked_members(store: VerdictStore, cluster: str) -> list[str]:
    """The accounts given an analyst's verdict on the cluster's behalf, still in force: by
    `link_members`, or by a console escalation of the cluster's case (the same mark, behind
    the console's "console:" since 2026-12-02)."""
    marks = {_linked(cluster), f"console:{_linked(cluster)}"}
    return [v.subject for v in store.list() if v.source == "analyst" and v.evidence in marks]


@dataclass(frozen=True)
class ClusterCleared:
    """What clearing a cluster removed: its own verdicts, and its members' detector ones."""

    cluster: str
    verdicts: int
    members: int

    def line(self) -> str:
        said = f"verdicts: cleared {self.verdicts} verdict(s) of cluster {self.cluster}"
        if self.members:
            said += (
                f" and the verdicts naming it of {self.members} member(s); a later publish "
                "of a run that flags them sets them again, unless they are dismissed in the "
                "console (its allowlist)"
            )
        return said


def detector_members(store: VerdictStore, cluster: str) -> list[str]:
    """The accounts whose detector verdict names the cluster, in force or not: one an
    analyst's verdict outranks for now (a day's `monitor`) is back under the detector's
    when it lapses. Read from the audit log, the only view of verdicts outranked."""
    held: dict[str, Verdict] = {}
    for change in store.audit():
        if change.op == "set" and change.verdict and change.verdict.source == "detector":
            held[change.key] = change.verdict
        elif change.op == "clear" and change.source in (None, "detector"):
            held.pop(change.key, None)
    at = now()
    return sorted(
        v.subject
        for v in held.values()
        if v.kind == "account" and v.cluster == cluster and v.live(at)
    )


def clear_cluster(store: VerdictStore, cluster: str, source: Source | None) -> ClusterCleared:
    """The cluster's verdicts from `source` (every source's when None) and, unless only the
    analyst's are cleared, its members' detector verdicts: an analyst clearing a cluster
    means its members to be served again."""
    members = detector_members(store, cluster) if source != "analyst" else []
    linked = [] if source == "detector" else linked_members(store, cluster)
    gone = store.clear(subject_key(cluster, "cluster"), source)
    lifted = sum(1 for m in members if store.clear(subject_key(m), "detector"))
    lifted += sum(1 for m in linked if store.clear(subject_key(m), "analyst"))
    return ClusterCleared(cluster, gone, lifted)
