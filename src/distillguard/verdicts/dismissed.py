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

import orjson

from distillguard.detect.allowlist import AllowEntry, covering
from distillguard.detect.case_files import EVIDENCE_FILE
from distillguard.errors import UserError
from distillguard.verdicts.model import Verdict


def _codes(detect_out: Path) -> dict[tuple[str, str], frozenset[str]]:
    path = detect_out / EVIDENCE_FILE
    if not path.exists():
        raise UserError(f"{detect_out} has no {EVIDENCE_FILE}: run detect again to use --allowlist")
    rows = (orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip())
    return {(r["kind"], r["id"]): frozenset(str(e["code"]) for e in r["evidence"]) for r in rows}


def dismissed_accounts(
    detect_out: Path, accounts: list[dict[str, Any]], entries: list[AllowEntry], at: datetime
) -> frozenset[str]:
    """The run's accounts whose evidence a live dismissal covers."""
    if not entries:
        return frozenset()
    codes = _codes(detect_out)
    held = set()
    for a in accounts:
        own = codes.get(("account", a["account_id"]), frozenset())
        linked = codes.get(("cluster", a.get("cluster_id") or ""), frozenset())
        if covering(entries, a["account_id"], own | {f"cluster.{c}" for c in linked}, at):
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
