"""Decisions go to the case store, the verdict store and the allowlist, each as it should."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from distillguard.console.casestore import CaseStore
from distillguard.console.decisions import CaseEvidence, Decision, decide
from distillguard.detect.allowlist import load_allowlist
from distillguard.errors import UserError
from distillguard.verdicts.members import clear_cluster
from distillguard.verdicts.model import Verdict
from distillguard.verdicts.store import VerdictStore, open_store

EVIDENCE = CaseEvidence(["a1", "a2"], {"a1": frozenset({"cot"}), "a2": frozenset({"volume"})})

# (decision, status recorded, verdict action per account or None, allowlist entries).
# Every case starts with a detector verdict on a1; only a dismissal clears it.
CASES = [
    (Decision("confirm"), "confirmed", "block_cluster", 0),
    (Decision("dismiss", note="a startup team"), "dismissed", None, 2),
    (Decision("escalate", action="throttle", ttl="24h"), "escalated", "throttle", 0),
    (Decision("escalate", action="block_cluster"), "escalated", "block_cluster", 0),
    (Decision("note", note="asked the customer"), None, "block_cluster", 0),
]


@pytest.mark.parametrize(("decision", "status", "action", "allowed"), CASES)
def test_decisions(
    tmp_path: Path, decision: Decision, status: str | None, action: str | None, allowed: int
) -> None:
    cases = CaseStore(tmp_path / "cases.duckdb")
    verdicts = open_store("memory")
    allowlist = tmp_path / "allowlist.jsonl"
    verdicts.set(Verdict("a1", "block_cluster", "detected", "detector", datetime.now(UTC)))
    outcome = decide(("cluster", "c1"), decision, "alice", EVIDENCE, (cases, verdicts, allowlist))
    assert outcome.status == status
    history = cases.history("cluster", "c1")
    assert [h["status"] for h in history] == [status]
    assert history[0]["who"] == "alice"
    verdict = verdicts.get("account:a1")
    assert (verdict.action if verdict else None) == action
    if decision.kind == "escalate":
        for account in EVIDENCE.accounts:
            escalated = verdicts.get(f"account:{account}")
            assert escalated is not None and escalated.source == "analyst"
            assert (escalated.expires is not None) == bool(decision.ttl)
    assert [h["action"] for h in history] == [decision.action or None]
    entries = load_allowlist(allowlist) if allowlist.exists() else []
    assert len(entries) == allowed
    assert {e.account_id: e.codes for e in entries} == (EVIDENCE.codes if allowed else {})
    assert len(cases.audit_log()) == 1
    cases.close()


def test_a_dismissal_lifts_every_verdict_the_case_put_in_force(tmp_path: Path) -> None:
    """The case's own escalation and the cluster's verdict go too, so a false positive is
    served again at once; an analyst's verdict for another reason stays."""
    verdicts = open_store("memory")
    at = datetime.now(UTC)
    verdicts.set(Verdict("a1", "degrade", "escalated", "analyst", at, evidence="cluster:c1"))
    verdicts.set(Verdict("a1", "block_cluster", "detected", "detector", at))
    verdicts.set(Verdict("a2", "block_account", "case 118", "analyst", at, evidence="manual"))
    verdicts.set(Verdict("a2", "throttle", "detected", "detector", at))
    verdicts.set(Verdict("c1", "block_cluster", "detected", "detector", at, kind="cluster"))
    verdicts.set(Verdict("other", "throttle", "detected", "detector", at))
    stores = (CaseStore(tmp_path / "cases.duckdb"), verdicts, tmp_path / "allowlist.jsonl")
    decide(("cluster", "c1"), Decision("dismiss"), "alice", EVIDENCE, stores)
    left = {v.key: (v.source, v.action) for v in verdicts.list()}
    assert left == {
        "account:a2": ("analyst", "block_account"),
        "account:other": ("detector", "throttle"),
    }
    stores[0].close()


@pytest.mark.parametrize(
    ("kind", "action", "note", "ttl"),
    [
        ("ban", "", "", ""),
        ("escalate", "nuke", "", ""),
        ("note", "", " ", ""),
        ("confirm", "", "", "forever"),
    ],
)
def test_bad_decisions_are_refused(kind: str, action: str, note: str, ttl: str) -> None:
    with pytest.raises(UserError):
        Decision(kind, action, note, ttl)


def _stores(tmp_path: Path) -> tuple[CaseStore, VerdictStore, Path]:
    allowlist = tmp_path / "allowlist.jsonl"
    allowlist.touch()  # as the console makes it
    return CaseStore(tmp_path / "cases.duckdb"), open_store("memory"), allowlist


@pytest.mark.parametrize(
    ("second", "standing"),
    [
        (Decision("confirm"), set()),
        (Decision("escalate", action="throttle"), set()),
        (Decision("note", note="asked the customer"), {"a1", "a2"}),
        (Decision("dismiss"), {"a1", "a2"}),
    ],
)
def test_a_confirmation_or_escalation_withdraws_an_earlier_dismissal(
    tmp_path: Path, second: Decision, standing: set[str]
) -> None:
    """A confirm after a dismissal left the allowlist entry standing: the next publish and
    detect run kept the confirmed harvester dismissed, and an escalation once cleared
    left the account never flagged again for that evidence."""
    stores = _stores(tmp_path)
    decide(("cluster", "c1"), Decision("dismiss"), "alice", EVIDENCE, stores)
    decide(("cluster", "c1"), second, "bob", EVIDENCE, stores)
    assert {e.account_id for e in load_allowlist(stores[2])} == standing
    decide(("cluster", "c1"), Decision("dismiss"), "alice", EVIDENCE, stores)
    assert {e.account_id for e in load_allowlist(stores[2])} == {"a1", "a2"}  # dismissed again
    stores[0].close()


def test_dismissing_a_member_lifts_its_clusters_escalation(tmp_path: Path) -> None:
    """The member stayed blocked by the escalation of its cluster while its page said
    dismissed."""
    cases, verdicts, allowlist = _stores(tmp_path)
    at = datetime.now(UTC)
    verdicts.set(
        Verdict("a1", "block_cluster", "campaign", "analyst", at, evidence="console:cluster:c9")
    )
    # a2's cluster verdict was set with `verdicts set --cluster c8 --findings ...`: it stays
    verdicts.set(Verdict("a2", "block_account", "legal hold", "analyst", at, evidence="cluster:c8"))
    for account in ("a1", "a2"):
        one = CaseEvidence([account], {account: frozenset({"cot"})})
        stores = (cases, verdicts, allowlist)
        decide(("account", account), Decision("dismiss"), "alice", one, stores)
    assert verdicts.get("account:a1") is None
    kept = verdicts.get("account:a2")
    assert kept is not None and kept.reason == "legal hold"
    cases.close()


def test_clearing_a_cluster_lifts_the_consoles_escalation_of_it(tmp_path: Path) -> None:
    """`verdicts clear --cluster c1` lifts what an escalation of the cluster's case set on
    its members, marked by the console since the review (console:cluster:c1)."""
    cases, verdicts, allowlist = _stores(tmp_path)
    stores = (cases, verdicts, allowlist)
    decide(("cluster", "c1"), Decision("escalate", action="throttle"), "alice", EVIDENCE, stores)
    assert "naming it of 2 member(s)" in clear_cluster(verdicts, "c1", None).line()
    assert verdicts.get("account:a1") is None and verdicts.get("account:a2") is None
    cases.close()
