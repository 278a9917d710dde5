"""A detect run's accounts and clusters -> detector verdicts, through the policy."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from distillguard.detect.allowlist import AllowEntry
from distillguard.detect.case_files import lake_of_run
from distillguard.errors import UserError
from distillguard.verdicts.continuity import carry_cluster_verdicts, retire_orphans, stale
from distillguard.verdicts.dismissed import dismissed_accounts, without_dismissed
from distillguard.verdicts.model import Verdict, now, subject_key
from distillguard.verdicts.policy import Policy, PublishRule
from distillguard.verdicts.store import VerdictStore


@dataclass(frozen=True)
class PublishSummary:
    published: int
    unchanged: int
    by_action: dict[str, int]
    renewed: int = 0  # of those published: the same action, a new cluster or half-life
    retired: int = 0  # the detector's cluster verdicts no account verdict named any more
    carried: int = 0  # analysts' cluster verdicts carried to the clusters continuing theirs
    held_back: int = 0  # accounts a console dismissal covers (--allowlist)

    def line(self) -> str:
        actions = ", ".join(f"{a} {n}" for a, n in sorted(self.by_action.items())) or "none"
        renewed = f" ({self.renewed} renewed)" if self.renewed else ""
        tails = [
            f"; {self.retired} cluster verdict(s) retired" if self.retired else "",
            f"; {self.carried} analyst cluster verdict(s) carried to renamed clusters"
            if self.carried
            else "",
            f"; {self.held_back} dismissed account(s) held back" if self.held_back else "",
        ]
        return (
            f"verdicts: {self.published} published{renewed}, {self.unchanged} unchanged "
            f"({actions}){''.join(tails)}"
        )


DETECT_TABLES = ("accounts", "clusters")  # what publish reads of a detect output


def check_detect_out(detect_out: Path) -> None:
    """Refuse a folder without detect's tables before a verdict store is opened: opening
    made a new store's empty file, and said so, for a run that then failed."""
    for name in DETECT_TABLES:
        _table(detect_out, name)


def _table(detect_out: Path, name: str) -> Path:
    path = detect_out / f"{name}.parquet"
    if not path.exists():
        raise UserError(f"{detect_out} is not a detect output (no {name}.parquet)")
    return path


def _rows(detect_out: Path, name: str) -> list[dict[str, Any]]:
    path = _table(detect_out, name)
    try:
        rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    except Exception as exc:
        raise UserError(f"cannot read {path}: {exc}") from exc
    return rows


def _rule(
    policy: Policy, kind: str, tier: str, score: float, signup: str | None = None
) -> PublishRule | None:
    for rule in policy.publish.rules:
        if rule.signup_tiers is not None and signup not in rule.signup_tiers:
            continue
        if rule.kind == kind and rule.tier == tier and score >= rule.min_score:
            return rule
    return None


def signup_tiers(detect_out: Path, lake: Path | None) -> dict[str, str]:
    """Each account's sign-up tier, from the lake's accounts table when there is one."""
    for root in (lake, lake_of_run(detect_out)):
        path = root / "accounts" / "accounts.parquet" if root else None
        if path is not None and path.exists():
            table = pq.read_table(path, columns=["account_id", "tier"])
            return {a: t for a, t in zip(*table.to_pydict().values(), strict=True) if t}
    return {}


def _tier(row: dict[str, Any]) -> str | None:
    if row.get("flagged"):
        return "flagged"
    return "review" if row.get("review") else None


def detector_verdicts(detect_out: Path, policy: Policy, lake: Path | None = None) -> list[Verdict]:
    """Cluster verdicts, each member's, then accounts': a member keeps its cluster's action.
    Their evidence names the run by its absolute path: a gateway, console or auditor reads
    it from another folder (or from Redis), where "../detect" means nothing."""
    detect_out = Path(os.path.abspath(detect_out))  # ".." folded, links kept as given
    created, accounts = now(), _rows(detect_out, "accounts")
    out = _cluster_verdicts(detect_out, policy, accounts, created)
    covered = {v.subject for v in out if v.kind == "account"}
    tiers = signup_tiers(detect_out, lake)
    for a in accounts:
        if a["account_id"] in covered:
            continue
        verdict = _account_verdict(detect_out, policy, a, tiers.get(a["account_id"]), created)
        out.extend([verdict] if verdict else [])
    return out


def _cluster_verdicts(
    detect_out: Path, policy: Policy, accounts: list[dict[str, Any]], created: datetime
) -> list[Verdict]:
    """Each flagged cluster's verdict, and its members' with the cluster's action."""
    members: dict[str, list[str]] = {}
    for a in accounts:
        if a.get("cluster_id"):
            members.setdefault(a["cluster_id"], []).append(a["account_id"])
    out: list[Verdict] = []
    for c in _rows(detect_out, "clusters"):
        rule = _rule(policy, "cluster", "flagged", c["score"]) if c.get("flagged") else None
        if rule is None:
            continue
        cid, ref = c["cluster_id"], f"{detect_out}/clusters.parquet#{c['cluster_id']}"
        reason, score = c["reasons"] or "", c["score"]
        cluster = Verdict(
            cid, rule.action, reason, "detector", created, kind="cluster", evidence=ref, score=score
        )
        out.append(cluster.with_expiry(policy.ttl))
        for account in members.get(cid, []):
            why = f"member of cluster {cid}"
            member = Verdict(
                account,
                rule.action,
                why,
                "detector",
                created,
                evidence=ref,
                cluster=cid,
                score=score,
            )
            out.append(member.with_expiry(policy.ttl))
    return out


def _account_verdict(
    detect_out: Path, policy: Policy, a: dict[str, Any], signup: str | None, created: datetime
) -> Verdict | None:
    """An account's own verdict, when its tier and score meet a rule of the policy."""
    tier = _tier(a)
    rule = _rule(policy, "account", tier, a["score"], signup) if tier else None
    if rule is None:
        return None
    verdict = Verdict(
        a["account_id"],
        rule.action,
        a["reasons"] or tier or "",
        "detector",
        created,
        evidence=f"{detect_out}/accounts.parquet#{a['account_id']}",
        cluster=a.get("cluster_id"),
        score=a["score"],
    )
    return verdict.with_expiry(policy.ttl)


def publish(
    detect_out: Path,
    store: VerdictStore,
    policy: Policy,
    lake: Path | None = None,
    allowlist: list[AllowEntry] | None = None,
) -> PublishSummary:
    """Set each verdict unless an analyst's is in force, or the detector's says the same
    and has more than half its life left (see `continuity.stale`), or a dismissal in the
    allowlist covers the account's evidence (see `dismissed`)."""
    published, unchanged, renewed = 0, 0, 0
    by_action: dict[str, int] = {}
    held = (  # accounts.parquet is read again only for a dismissal to match
        dismissed_accounts(detect_out, _rows(detect_out, "accounts"), allowlist, now())
        if allowlist
        else frozenset()
    )
    every = detector_verdicts(detect_out, policy, lake)
    verdicts = without_dismissed(every, held)
    held_back = sum(v.kind == "account" for v in every) - sum(v.kind == "account" for v in verdicts)
    carried = carry_cluster_verdicts(store, verdicts)
    flagged = {v.subject for v in verdicts if v.kind == "cluster"}
    for verdict in verdicts:
        current = store.get(subject_key(verdict.subject, verdict.kind))
        member = verdict.kind == "account" and verdict.cluster in flagged
        # An analyst's verdict stands until it lapses.
        if current and (current.source == "analyst" or not stale(current, verdict, member=member)):
            unchanged += 1
            continue
        store.set(verdict)
        published += 1
        renewed += current is not None and current.action == verdict.action
        by_action[verdict.action] = by_action.get(verdict.action, 0) + 1
    retired = retire_orphans(store, flagged)
    return PublishSummary(published, unchanged, by_action, renewed, retired, carried, held_back)
