"""`--json` end-of-run summaries of detect and evaluate, for scripts."""

from __future__ import annotations

import json

import pytest

from distillguard.cli.detect_cmd import detect_json
from distillguard.cli.main import main
from distillguard.detect.run import DetectSummary
from distillguard.simulate import SimSummary


def test_detect_json_counts_match_the_run(tiny_detect: DetectSummary) -> None:
    data = json.loads(json.dumps(detect_json(tiny_detect)))
    assert data["exchanges"] == tiny_detect.exchanges
    assert data["flagged_accounts"] == sum(a.flagged for a in tiny_detect.accounts)
    flagged = {c.cluster_id for c in tiny_detect.clusters if c.flagged}
    assert {c["cluster_id"] for c in data["flagged_clusters"]} == flagged
    scores = [c["score"] for c in data["flagged_clusters"]]
    assert scores == sorted(scores, reverse=True)


def test_evaluate_json_is_the_metrics_file(
    tiny_detect: DetectSummary, tiny_sim: SimSummary, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate", str(tiny_detect.out), "--labels", str(tiny_sim.files[2]), "--json"]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tiny_detect.out / "metrics.json").read_text())
    assert 0.0 <= printed["recall"] <= 1.0 and printed["campaigns"]
