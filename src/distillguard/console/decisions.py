"""An analyst's decision on a case, and where it goes: the case store, the gateway's verdict
store, and the allowlist the next detect run reads.

- confirm: the case is confirmed; nothing changes for the gateway, but a dismissal of its
  accounts before is withdrawn (the next publish acts on them again).
- dismiss: a false positive. Each account gets an allowlist entry for the evidence it was
  flagged on, and its verdicts are cleared (the detector's, an analyst's escalation from
  a console case, this one or its cluster's, and a cluster case's cluster verdict), so the
  gateway stops acting on it at once; the next detect run (with the allowlist) does not
  flag it for the same evidence, and new evidence flags it, and the gateway acts, again.
  No analyst verdict is written: one would outrank the detector's for good. A verdict set
  outside the console (`verdicts set`) stays; the case page shows what is in force.
- escalate: an analyst verdict with the chosen rung of the ladder, for every account; a
  dismissal of them before is withdrawn.
- note: a note on the case, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from distillguard.console.casestore import CaseStore
from distillguard.detect.allowlist import AllowEntry, append_allowlist, standing_accounts
from distillguard.errors import ConfigError, unknown_name_error
from distillguard.verdicts.model import ACTIONS, Verdict, parse_ttl, subject_key
from distillguard.verdicts.store import VerdictStore

KINDS = ("confirm", "dismiss", "escalate", "note")
# An analyst verdict's evidence when the console set it: "console:cluster:c-42". `verdicts
# set --cluster` names the bare "cluster:c-42", and a console dismissal leaves that alone.
CONSOLE = "console:"
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


def cluster_block_of_one(cases: CaseStore, case: tuple[str, str], decision: Decision) -> str:
    """Why block_cluster on an account case is refused ("" where it is not): it writes a
    verdict on that account alone, which the analyst did not mean (the CLI says so too)."""
    if case[0] != "account" or decision.kind != "escalate" or decision.action != "block_cluster":
        return ""
    cluster = cases.cluster_of(case[1])
    if not cluster:
        return "block_cluster: this account is in no linked cluster; choose block_account"
    return f"block_cluster blocks this account only: escalate its cluster's case, {cluster}"


def seen_count(text: str) -> int | None:
    """The form's count of the decisions its page showed; none from a script's POST."""
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):  # "²" is a digit to Python, not to int()
        raise ConfigError(f"seen must be a count of decisions, not {text[:20]!r}")
    return int(text)


def decide(
    case: tuple[str, str],
    decision: Decision,
    by: str,
    evidence: CaseEvidence,
    stores: tuple[CaseStore, VerdictStore, Path],
) -> Outcome:
    cases, verdicts, allowlist = stores
    at = datetime.now(UTC)
    status = STATUS.get(decision.kind)
    standing = standing_accounts(allowlist)  # read before anything is written
    cases.record(
        *case,
        by,
        decision.seen,
        status=status,
        action=decision.action if decision.kind == "escalate" else None,
        note=decision.note or None,
        expires=decision.expires(at),
    )
    if decision.kind == "dismiss":
        _dismiss(case, decision, by, evidence, (verdicts, allowlist), at=at)
        return Outcome(status, 0, len(evidence.accounts))
    if decision.kind in ("confirm", "escalate"):
        withdrawn = [a for a in evidence.accounts if a in standing]
        _withdraw_dismissals(withdrawn, decision, by, allowlist, at)
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
                decision.expires(at),
                evidence=f"{CONSOLE}{case[0]}:{case[1]}",
            )
        )
    return Outcome(status, len(evidence.accounts), 0)


def _dismiss(
    case: tuple[str, str],
    decision: Decision,
    by: str,
    evidence: CaseEvidence,
    stores: tuple[VerdictStore, Path],
    *,
    at: datetime,
) -> None:
    verdicts, allowlist = stores
    for account in evidence.accounts:
        reason = decision.note or "dismissed as a false positive"
        codes = evidence.codes.get(account, frozenset())
        entry = AllowEntry(account, reason, codes, by, at, decision.expires(at))
        append_allowlist(allowlist, entry)
    keys = [subject_key(a) for a in evidence.accounts]
    if case[0] == "cluster":
        keys.append(subject_key(case[1], "cluster"))
    for key in keys:
        _lift(verdicts, key, f"{case[0]}:{case[1]}")


def _withdraw_dismissals(
    accounts: list[str], decision: Decision, by: str, allowlist: Path, at: datetime
) -> None:
    """A confirmation or escalation after a dismissal ends it (`accounts`: those with one
    standing): the next detect run flags them for the same evidence again (else a
    confirmed harvester stayed dismissed, and an escalation, once cleared, left it never
    flagged again)."""
    for account in accounts:
        note = f"{STATUS[decision.kind]} after a dismissal"
        append_allowlist(allowlist, AllowEntry(account, note, frozenset(), by, at, withdrawn=True))


def _lift(verdicts: VerdictStore, key: str, case: str) -> None:
    """The detector's verdict, and an analyst's escalation from any case of the console
    (this one, or the cluster an account was escalated with: marked CONSOLE), or one that
    names this very case (as escalations did before the mark); an analyst's verdict set
    outside the console (`verdicts set`, with --cluster too) stays, and the case page
    shows it in force."""
    in_force = verdicts.get(key)
    by_analyst = in_force.evidence if in_force and in_force.source == "analyst" else None
    if by_analyst is not None and (by_analyst.startswith(CONSOLE) or by_analyst == case):
        verdicts.clear(key, "analyst")
    verdicts.clear(key, "detector")


def ttl_choices() -> list[str]:
    return ["", "1h", "24h", "7d", "30d"]


def as_delta(text: str) -> timedelta | None:
    return parse_ttl(text) if text else None


def codes_of(rows: list[dict[str, Any]]) -> frozenset[str]:
    return frozenset(str(e["code"]) for e in rows)
