"""Files detect writes for the analyst console: structured evidence, and where the run came from.

The tables hold each account's reasons as one string; the console shows the evidence whole
(observed facts apart from the inference), so it is written here for every account or
cluster that was flagged or listed for review.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from distillguard import __version__
from distillguard.detect.allowlist import Suppression
from distillguard.detect.results import AccountResult, ClusterResult
from distillguard.errors import UserError
from distillguard.ingest.remote import is_uri
from distillguard.scoring.evidence import Evidence

EVIDENCE_FILE = "evidence.jsonl"
RUN_FILE = "run.json"
# evidence.jsonl's rows by (kind, id): {"kind", "id", "evidence": [...]} and, for a
# cluster, its members
EvidenceIndex = dict[tuple[str, str], dict[str, Any]]


def evidence_json(items: tuple[Evidence, ...]) -> list[dict[str, Any]]:
    return [
        {
            "code": e.code,
            "title": e.title,
            "observed": e.observed,
            "inference": e.inference,
            "confidence": e.confidence,
        }
        for e in items
    ]


def write_evidence(out: Path, accounts: list[AccountResult], clusters: list[ClusterResult]) -> int:
    """One line per flagged or review account and per flagged cluster; how many lines."""
    lines = [
        {"kind": "account", "id": a.account_id, "evidence": evidence_json(a.evidence)}
        for a in accounts
        if a.flagged or a.review
    ]
    lines += [
        {
            "kind": "cluster",
            "id": c.cluster_id,
            "members": list(c.accounts),
            "evidence": evidence_json(c.evidence),
        }
        for c in clusters
        if c.flagged
    ]
    (out / EVIDENCE_FILE).write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in lines))
    return len(lines)


def write_run(
    out: Path,
    lake: Path | str,
    suppressed: Sequence[Suppression],
    settings: Mapping[str, Any] | None = None,
) -> None:
    """Where the lake is (for sample exchanges; a URI is kept as given), the settings the
    run decided by (who decides, its lines, window and seed: what an audit of a block asks)
    and which flags the allowlist held back."""
    run = {
        "lake": lake if isinstance(lake, str) else _lake_path(out, lake),
        "finished": datetime.now(UTC).isoformat(),
        "version": __version__,
        "settings": dict(settings or {}),
        "suppressed": [
            {"account_id": s.account_id, "codes": sorted(s.codes), "reason": s.entry.reason}
            for s in suppressed
        ],
    }
    (out / RUN_FILE).write_bytes(orjson.dumps(run, option=orjson.OPT_INDENT_2))


def _lake_path(out: Path, lake: Path) -> str:
    # A lake detect ingested itself lives in the output folder, which is renamed into place
    # when the run completes: it is recorded relative to the folder.
    if lake.resolve().is_relative_to(out.resolve()):
        return str(lake.resolve().relative_to(out.resolve()))
    return str(lake.resolve())


def read_run(out: Path) -> dict[str, Any]:
    """run.json, with the lake's path made absolute."""
    path = out / RUN_FILE
    run = dict(orjson.loads(path.read_bytes())) if path.exists() else {}
    if run.get("lake") and not is_uri(run["lake"]):
        run["lake"] = str(out / run["lake"])  # an absolute path stays as it is
    return run


def lake_of_run(out: Path) -> Path:
    """The local lake a run read, as its run.json records it, else OUT/lake: a detect on a
    lake elsewhere leaves no OUT/lake, and what reads the accounts' sign-up facts (share
    export's payment indicators, publish's tiers) found none there."""
    recorded = read_run(out).get("lake")
    if recorded and not is_uri(recorded) and Path(recorded).is_dir():
        return Path(recorded)
    return out / "lake"


def read_evidence(out: Path) -> EvidenceIndex:
    """The evidence a run wrote (`write_evidence`), by kind and id."""
    path = out / EVIDENCE_FILE
    if not path.exists():
        raise UserError(f"{out} has no {EVIDENCE_FILE}: run detect again with this version")
    rows = (orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip())
    return {(r["kind"], r["id"]): r for r in rows}
