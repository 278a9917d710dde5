"""An analyst's decision on a case, and where it goes: the case store, the gateway's verdict
store, and the allowlist the next detect run reads.

- confirm: the case is confirmed; nothing changes for the gateway.
- dismiss: a false positive. Each account gets an allowlist entry for the evidence it was
  flagged on, and its verdicts are cleared (the detector's, an analyst's escalation of
  this case, and a cluster case's cluster verdict), so the gateway stops acting on it at
  once; the next detect run (with the allowlist) does not flag it for the same evidence,
  and new evidence flags it, and the gateway acts, again. No analyst verdict is written:
  one would outrank the detector's for good.
- escalate: an analyst verdict with the chosen rung of the ladder, for every account.
- note: a note on the case, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from distillguard.console.casestore import CaseStore
from distillguard.detect.allowlist import AllowEntry, append_allowlist
from distillguard.errors import ConfigError, unknown_name_error
from distillguard.verdicts.model import ACTIONS, Verdict, parse_ttl, subject_key
from distillguard.verdicts.store import VerdictStore

KINDS = ("confirm", "dismiss", "escalate", "note")
STATUS = {"confirm": "confirmed", "dismiss": "dismissed", "escalate": "escalated"}


@dataclass(frozen=True)
class Decision:
    """What an analyst asked for on one case."""

    kind: str
    action: str = ""
    note: str = ""
    ttl: str = ""
    seen: int | None = None  # the decisions the analyst's page showed (None: not checked)

    def __post_init__(self) -> None:
        if self.ttl.strip():
            parse_ttl(self.ttl)  # a bad duration is the analyst's mistake: refuse it here
        if self.kind not in KINDS:
            raise unknown_name_error("decision", self.kind, list(KINDS))
        if self.kind == "escalate" and self.action not in ACTIONS:
            raise unknown_name_error("action", self.action, list(ACTIONS))
        if self.kind == "note" and not self.note.strip():
            raise ConfigError("a note needs text")

    def expires(self, at: datetime) -> datetime | None:
        return at + parse_ttl(self.ttl) if self.ttl.strip() else None


@dataclass(frozen=True)
class Outcome:
    """What a decision did, for the page to say and the test to check."""

    status: str | None
    verdicts: int
    allowlisted: int


@dataclass(frozen=True)
class CaseEvidence:
    """The accounts a case covers and the evidence codes each was flagged on."""

    accounts: list[str]
    codes: dict[str, frozenset[str]]


def decide(
    case: tuple[str, str],
    decision: Decision,
    by: str,
    evidence: CaseEvidence,
    stores: tuple[CaseStore, VerdictStore, Path],
) -> Outcome:
    cases, verdicts, allowlist = stores
    at = datetime.now(UTC)
    expires = decision.expires(at)
    status = STATUS.get(decision.kind)
    cases.record(
        *case,
        by,
        decision.seen,
        status=status,
        action=decision.action if decision.kind == "escalate" else None,
        note=decision.note or None,
        expires=expires,
    )
    if decision.kind == "dismiss":
        for account in evidence.accounts:
            append_allowlist(
                allowlist,
                AllowEntry(
                    account,
                    decision.note or "dismissed as a false positive",
                    evidence.codes.get(account, frozenset()),
                    by,
                    at,
                    expires,
                ),
            )
        keys = [subject_key(a) for a in evidence.accounts]
        if case[0] == "cluster":
            keys.append(subject_key(case[1], "cluster"))
        for key in keys:
            _lift(verdicts, key, f"{case[0]}:{case[1]}")
        return Outcome(status, 0, len(evidence.accounts))
    if decision.kind != "escalate":
        return Outcome(status, 0, 0)
    reason = decision.note or f"analyst {by}: escalated"
    for account in evidence.accounts:
        verdicts.set(
            Verdict(
                account,
                decision.action,
                reason,
                "analyst",
                at,
                expires,
                evidence=f"{case[0]}:{case[1]}",
            )
        )
    return Outcome(status, len(evidence.accounts), 0)


def _lift(verdicts: VerdictStore, key: str, case: str) -> None:
    """The detector's verdict, and an analyst's escalation of this very case; an analyst's
    verdict set for another reason (another case, `verdicts set`) stays."""
    in_force = verdicts.get(key)
    if in_force is not None and in_force.source == "analyst" and in_force.evidence == case:
        verdicts.clear(key, "analyst")
    verdicts.clear(key, "detector")


def ttl_choices() -> list[str]:
    return ["", "1h", "24h", "7d", "30d"]


def as_delta(text: str) -> timedelta | None:
    return parse_ttl(text) if text else None


def codes_of(rows: list[dict[str, Any]]) -> frozenset[str]:
    return frozenset(str(e["code"]) for e in rows)
