"""What the console's routes share: its stores, the run's evidence, users and throttles."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distillguard.console.casefacts import CaseFacts
from distillguard.console.casestore import CaseStore
from distillguard.console.decisions import CaseEvidence, codes_of
from distillguard.console.security import SessionRegistry
from distillguard.console.users import UserStore
from distillguard.detect.allowlist import flagged_for
from distillguard.login_throttle import LoginThrottle
from distillguard.sharing.keys import CommunityKey
from distillguard.verdicts.store import VerdictStore


@dataclass
class Console:
    """Everything the routes share: stores, the run's evidence, users and the throttle."""

    findings: Path
    home: Path
    cases: CaseStore
    verdicts: VerdictStore
    users: UserStore
    facts: CaseFacts
    evidence: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    share_key: CommunityKey | None = None  # with it, cases export as STIX bundles
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    sessions: SessionRegistry = field(default_factory=SessionRegistry)
    suppressed: int = 0

    def close(self) -> None:
        self.cases.close()
        self.facts.close()
        self.verdicts.close()

    @property
    def allowlist(self) -> Path:
        return self.home / "allowlist.jsonl"

    def case_evidence(self, kind: str, case_id: str) -> CaseEvidence:
        row = self.evidence.get((kind, case_id), {})
        accounts = list(row.get("members", [])) if kind == "cluster" else [case_id]
        codes = {}
        for account in accounts:
            own = codes_of(self.evidence.get(("account", account), {}).get("evidence", []))
            cluster_id = self.cases.cluster_of(account)
            linked = self.evidence.get(("cluster", cluster_id), {}).get("evidence", [])
            codes[account] = flagged_for(own, codes_of(linked))
        return CaseEvidence(accounts, codes)
