"""Decisions go to the case store, the verdict store and the allowlist, each as it should."""

from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.console.casestore import CaseStore
from distillguard.console.decisions import CaseEvidence, Decision, decide
from distillguard.detect.allowlist import load_allowlist
from distillguard.errors import UserError
from distillguard.verdicts.store import open_store

EVIDENCE = CaseEvidence(["a1", "a2"], {"a1": frozenset({"cot"}), "a2": frozenset({"volume"})})

# (decision, status recorded, verdict action per account or None, allowlist entries)
CASES = [
    (Decision("confirm"), "confirmed", None, 0),
    (Decision("dismiss", note="a startup team"), "dismissed", "monitor", 2),
    (Decision("escalate", action="throttle", ttl="24h"), "escalated", "throttle", 0),
    (Decision("escalate", action="block_cluster"), "escalated", "block_cluster", 0),
    (Decision("note", note="asked the customer"), None, None, 0),
]


@pytest.mark.parametrize(("decision", "status", "action", "allowed"), CASES)
def test_decisions(
    tmp_path: Path, decision: Decision, status: str | None, action: str | None, allowed: int
) -> None:
    cases = CaseStore(tmp_path / "cases.duckdb")
    verdicts = open_store("memory")
    allowlist = tmp_path / "allowlist.jsonl"
    outcome = decide(("cluster", "c1"), decision, "alice", EVIDENCE, (cases, verdicts, allowlist))
    assert outcome.status == status
    history = cases.history("cluster", "c1")
    assert [h["status"] for h in history] == [status]
    assert history[0]["who"] == "alice"
    for account in EVIDENCE.accounts:
        verdict = verdicts.get(f"account:{account}")
        assert (verdict.action if verdict else None) == action
        if verdict:
            assert verdict.source == "analyst"
            assert (verdict.expires is not None) == bool(decision.ttl)
    entries = load_allowlist(allowlist)
    assert len(entries) == allowed
    assert {e.account_id: e.codes for e in entries} == (EVIDENCE.codes if allowed else {})
    assert len(cases.audit_log()) == 1
    cases.close()


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
        decision = Decision(kind, action, note, ttl)
        decision.expires(__import__("datetime").datetime.now())
