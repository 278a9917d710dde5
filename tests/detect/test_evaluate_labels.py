"""evaluate against labels that cover part of the run, and its JSON as strict parsers read it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq

from distillguard.detect.summary import DetectSummary
from distillguard.evaluate.metrics import evaluate, markdown
from distillguard.simulate import SimSummary


def test_labels_for_part_of_the_run_are_said_not_silently_scored(
    tiny_detect: DetectSummary, tiny_sim: SimSummary, tmp_path: Path
) -> None:
    labels = pq.read_table(tiny_sim.files[2])
    part = tmp_path / "part.parquet"
    pq.write_table(labels.slice(0, 100), part)
    whole, partial = evaluate(tiny_detect.out, tiny_sim.files[2]), evaluate(tiny_detect.out, part)
    assert whole.unlabelled_accounts == 0 and "no label" not in markdown(whole)
    scored = len(tiny_detect.accounts)
    assert (
        0
        < partial.unlabelled_accounts
        == scored - partial.attack_accounts - partial.benign_accounts
    )
    assert f"{partial.unlabelled_accounts:,} account(s) of the run have no label" in markdown(
        partial
    )
    # labelled accounts that sent nothing are counted too, not silently joined away
    assert whole.labelled_without_traffic == labels.num_rows - scored
    if whole.labelled_without_traffic:
        assert "sent no exchange in this run" in markdown(whole)


def test_metrics_json_is_strict_json(tiny_detect: DetectSummary, tiny_sim: SimSummary) -> None:
    """When no threshold fits the budget it is inf: written as null, not Infinity."""
    metrics = evaluate(tiny_detect.out, tiny_sim.files[2])
    none_fit = replace(metrics, at_budget=replace(metrics.at_budget, threshold=float("inf")))
    text = none_fit.to_json()
    assert "Infinity" not in text and json.loads(text)["at_budget"]["threshold"] is None
