"""The evidence case pages show: what detect wrote, and what `share match` found.

Both folders hold `evidence.jsonl` (one line per account or cluster, observed facts apart
from the inference); a peer's match is added to the account's own evidence, never replacing
it, so an analyst sees detect's reasons and the peer indicators side by side.
"""

from __future__ import annotations

from pathlib import Path

from distillguard.console.casestore import CaseStore
from distillguard.detect.case_files import EvidenceIndex, read_evidence
from distillguard.errors import UserError


def check_matches(folder: Path) -> None:
    if not (folder / "matches.parquet").exists():
        raise UserError(f"{folder} is not a 'share match' output folder (no matches.parquet)")


def add_matches(cases: CaseStore, evidence: EvidenceIndex, folder: Path) -> int:
    """Queue a `share match` folder's accounts, their peer evidence beside detect's."""
    check_matches(folder)
    for key, row in read_evidence(folder).items():
        known = evidence.setdefault(key, {**row, "evidence": []})
        known["evidence"] = [*known["evidence"], *row["evidence"]]
    return cases.add_matches(folder)
