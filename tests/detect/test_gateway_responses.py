"""`detect --responses STATE`: findings carry the rung the gateway applies to an account."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from distillguard.cli.main import main
from distillguard.detect.summary import DetectSummary
from distillguard.verdicts.model import Verdict
from distillguard.verdicts.store import open_store


def test_findings_carry_the_gateways_response(
    tiny_detect: DetectSummary, tiny_lake: Path, tmp_path: Path
) -> None:
    account = next(a.account_id for a in tiny_detect.accounts if a.flagged)
    state = tmp_path / "verdicts.jsonl"
    store = open_store(str(state))
    store.set(Verdict(account, "block_account", "test", "analyst", datetime.now(UTC)))
    out = tmp_path / "out"
    assert main(["detect", str(tiny_lake), "--out", str(out), "--responses", str(state)]) == 0
    lines = (out / "findings.ocsf.jsonl").read_bytes().splitlines()
    findings = [orjson.loads(line) for line in lines]
    acted = [
        f
        for f in findings
        if account in {o.get("value") for o in f.get("observables", [])}
        and f.get("disposition") == "Blocked"
    ]
    assert acted, "the finding covering the blocked account carries the block"
    untouched = [f for f in findings if account not in str(f.get("observables"))]
    assert all("disposition" not in f for f in untouched)
