"""Dismissals in `verdicts publish`: a run detect made without the console's allowlist
(or before a dismissal) would otherwise set again the verdicts an analyst lifted.

An account is held back as `detect --allowlist` would have held it: a live entry of the
allowlist covers every evidence code the run flags it for (its own, and its cluster's as
`cluster.CODE`). New evidence is not covered, so the verdict is published.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from distillguard.detect.allowlist import AllowEntry, covering, flagged_for
from distillguard.detect.case_files import read_evidence
from distillguard.verdicts.model import Verdict


def dismissed_accounts(
    detect_out: Path, accounts: list[dict[str, Any]], entries: list[AllowEntry], at: datetime
) -> frozenset[str]:
    """The run's accounts whose evidence a live dismissal covers."""
    evidence = read_evidence(detect_out)

    def codes(kind: str, subject: str) -> list[str]:
        return [str(e["code"]) for e in evidence.get((kind, subject), {}).get("evidence", [])]

    held = set()
    for a in accounts:
        own, linked = codes("account", a["account_id"]), codes("cluster", a.get("cluster_id") or "")
        if covering(entries, a["account_id"], flagged_for(own, linked), at):
            held.add(a["account_id"])
    return frozenset(held)


def without_dismissed(verdicts: list[Verdict], held: frozenset[str]) -> list[Verdict]:
    """The verdicts less the held-back accounts', and less a cluster's whose every member
    the store would learn of is held back (it would reach nobody)."""
    if not held:
        return verdicts
    kept = [v for v in verdicts if not (v.kind == "account" and v.subject in held)]
    named = {v.cluster for v in kept if v.kind == "account" and v.cluster}
    return [v for v in kept if v.kind == "account" or v.subject in named]
