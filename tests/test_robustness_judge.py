"""The robustness judge refuses thresholds that were frozen for another combiner: judging
the shipped model at a candidate's thresholds reports figures of neither."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from benchmarks.robustness.run import judge

from distillguard.scoring.combiner import shipped


def _frozen(folder: Path, model: dict[str, object]) -> argparse.Namespace:
    frozen = {"model": model, "fit_seeds": [1], "combiner": {"flag": 0.99, "review": 0.98}}
    (folder / "frozen.json").write_text(json.dumps(frozen))
    return argparse.Namespace(
        out=folder, frozen=None, worlds=0, scale=0.6, days=None, jobs=1, baseline=None
    )


def test_judge_refuses_thresholds_frozen_for_another_combiner(tmp_path: Path) -> None:
    other = {**shipped().about, "train_seeds": [101, 102]}
    with pytest.raises(SystemExit, match="another combiner"):
        judge(_frozen(tmp_path, other))
    assert not (tmp_path / "judge.json").exists()


def test_judge_refuses_without_frozen_thresholds(tmp_path: Path) -> None:
    args = argparse.Namespace(out=tmp_path, frozen=None, worlds=0, baseline=None)
    with pytest.raises(SystemExit, match="run 'fit' first"):
        judge(args)
