"""Verdicts across detect runs: when a detector verdict is set again, what follows a
cluster whose id changed, and which cluster verdicts no longer reach anyone.

A cluster's id is a hash of its members (`detect/results.py`), so a campaign that gains or
loses one account gets a new id. Its members' verdicts are renewed under the new id, since
the gateway reads a cluster's verdict through the cluster its member's verdict names. An
analyst's verdict on the old id is carried to the new one when the new cluster holds at
least half of the accounts that named the old (the rule findings use to keep a cluster's
uid), so a renamed campaign does not escape an analyst's block. A verdict milder than the
detector's on the new cluster (a clearance) is carried only when the old accounts are also
at least half of the new cluster: accounts that link into a cleared cluster, and were
never reviewed, must not outnumber those the analyst judged. The old verdict stays until
it lapses, reaching nobody.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from distillguard.verdicts.model import Verdict, severity
from distillguard.verdicts.store import VerdictStore


def stale(current: Verdict, fresh: Verdict, *, member: bool) -> bool:
    """Whether the detector's verdict in force gives way to this run's: another action;
    for a member of a flagged cluster, another cluster (for accounts outside one, the
    cluster named shifts from run to run and no detector verdict is read through it); or
    under half its life left, so a verdict never lapses while detection still holds, yet
    is rewritten at most once a half-life."""
    if current.action != fresh.action or (member and current.cluster != fresh.cluster):
        return True
    if current.expires is None:
        return False
    return current.expires - fresh.created < (current.expires - current.created) / 2


def carry_cluster_verdicts(store: VerdictStore, verdicts: list[Verdict]) -> int:
    """Copy analysts' verdicts on the clusters this run's flagged clusters continue to the
    new ids (see the module doc); how many were carried. Run before members are renewed,
    while their verdicts still name the old ids."""
    listed = store.list()
    held = {v.subject: v for v in listed if v.kind == "account"}
    analysts = {v.subject: v for v in listed if v.kind == "cluster" and v.source == "analyst"}
    named = Counter(v.cluster for v in held.values() if v.cluster)
    actions = {v.subject: v.action for v in verdicts if v.kind == "cluster"}
    carried = 0
    for fresh, members in _members(verdicts).items():
        if fresh in analysts:
            continue  # the analyst already decided on this very cluster
        old = _continued(members, held, named, analysts, actions[fresh])
        if old is not None:
            note = f"{analysts[old].reason} (carried from cluster {old}: most of its members)"
            store.set(replace(analysts[old], subject=fresh, reason=note))
            carried += 1
    return carried


def _members(verdicts: list[Verdict]) -> dict[str, list[str]]:
    flagged = {v.subject for v in verdicts if v.kind == "cluster"}
    members: dict[str, list[str]] = {c: [] for c in flagged}
    for v in verdicts:
        if v.kind == "account" and v.cluster in flagged:
            members[v.cluster].append(v.subject)
    return members


def _continued(
    members: list[str],
    held: dict[str, Verdict],
    named: Counter[str],
    analysts: dict[str, Verdict],
    detector_action: str,
) -> str | None:
    """The analyst-judged cluster whose members this one holds at least half of, the one
    it holds most of; a milder verdict than the detector's only when those members are
    also at least half of this one."""
    clusters = [held[m].cluster for m in members if m in held]
    overlap = Counter(c for c in clusters if c is not None and c in analysts)
    for old, shared in overlap.most_common():
        milder = severity(analysts[old].action) < severity(detector_action)
        if 2 * shared >= named[old] and (not milder or 2 * shared >= len(members)):
            return old
    return None


def retire_orphans(store: VerdictStore, flagged: set[str]) -> int:
    """Clear the detector's verdicts on clusters that neither this run flags nor any
    account's verdict names: a cluster renamed as it grew, whose members now name the new
    id. The gateway reaches a cluster's verdict only through a member's, so such a verdict
    acts on nobody; left, it would be listed, in the console too, until it lapsed."""
    held = store.list()
    named = flagged | {v.cluster for v in held if v.kind == "account" and v.cluster}
    orphans = [v for v in held if v.kind == "cluster" and v.source == "detector"]
    return sum(store.clear(v.key, "detector") for v in orphans if v.subject not in named)
