"""Thresholds merged over prompt sources: the highest per decider and tier, from fits of
one model with one set of targets, each fit kept in the record."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from benchmarks.robustness.judging import frozen_for_shipped
from benchmarks.robustness.merge import main, merged
from benchmarks.robustness.variants import RESULTS

from distillguard.detect.config import DetectConfig


def _fit(flag: float, review: float, seeds: list[int], **extra: Any) -> dict[str, Any]:
    return {
        "model": {"train_seeds": [101]},
        "targets": {"flag": [0.004, 0.005], "review": [0.008, 0.02]},
        "fit_seeds": seeds,
        "commit": "abc",
        "frozen_at": f"2026-11-30T0{len(seeds)}:00:00Z",
        "rules": {"flag": 0.99, "review": 0.98},
        "combiner": {"flag": flag, "review": review},
        **extra,
    }


def test_each_threshold_is_the_highest_of_the_fits() -> None:
    grammar = _fit(0.9914, 0.9793, [1, 2], days=7)  # the first fit: its keys are kept
    corpus = _fit(0.9942, 0.9780, [2, 3, 4], corpus="../shared/data/corpora", days=14)
    out = merged({"g": grammar, "c": corpus})
    assert out["combiner"] == {"flag": 0.9942, "review": 0.9793}
    assert out["rules"] == {"flag": 0.99, "review": 0.98}
    assert out["fit_seeds"] == [1, 2, 3, 4] and out["frozen_at"] == "2026-11-30T03:00:00Z"
    assert out["merged_from"]["c"]["corpus"] == "../shared/data/corpora"
    assert out["merged_from"]["c"]["days"] == 14
    assert "corpus" not in out["merged_from"]["g"] and "corpus" not in out
    assert out["merged_from"]["g"]["days"] == 7
    assert "days" not in out  # not the first fit's length standing for all
    assert out["model"] == grammar["model"]


@pytest.mark.parametrize(
    ("fits", "message"),
    [
        ({"a": _fit(0.99, 0.98, [1])}, "at least two"),
        (
            {"a": _fit(0.99, 0.98, [1]), "b": {**_fit(0.99, 0.98, [2]), "model": {"x": 1}}},
            "b was fit with another model",
        ),
        (
            {"a": _fit(0.99, 0.98, [1]), "b": {**_fit(0.99, 0.98, [2]), "targets": {}}},
            "b was fit with another targets",
        ),
        (
            {"a": _fit(0.99, 0.98, [1]), "b": _fit(0.98, 0.97, [2], flag_ticks=3)},
            "b was fit at other flag ticks",
        ),
    ],
)
def test_fits_that_do_not_belong_together_are_refused(
    fits: dict[str, dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        merged(fits)


def test_the_command_writes_the_merge_and_refuses_a_file_fit_did_not_write(
    tmp_path: Path,
) -> None:
    paths = []
    for name, fit in (("g", _fit(0.9914, 0.9793, [1])), ("c", _fit(0.9942, 0.9825, [1]))):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(fit))
    main([*map(str, paths), "--out", str(tmp_path / "frozen.json")])
    assert json.loads((tmp_path / "frozen.json").read_text())["combiner"]["flag"] == 0.9942
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(SystemExit, match=r"is not a frozen\.json that 'fit' writes"):
        main([str(paths[0]), str(tmp_path / "bad.json"), "--out", str(tmp_path / "x.json")])


def test_detect_ships_the_frozen_thresholds_rounded_up() -> None:
    """Detect's defaults are the thresholds the judges were scored at, rounded up to four
    places (never laxer), for the model it ships."""
    frozen = frozen_for_shipped(RESULTS / "frozen.json")
    config = DetectConfig()
    assert config.combiner_flag == math.ceil(frozen["combiner"]["flag"] * 1e4) / 1e4
    assert config.combiner_review == math.ceil(frozen["combiner"]["review"] * 1e4) / 1e4
    assert config.combiner_flag_ticks == frozen["flag_ticks"]
    # the lone line as fit (on its grid already), or the flag line before one was
    assert config.lone_line == frozen.get("combiner_flag_lone", config.combiner_flag)


def test_the_lone_line_is_the_highest_of_the_fits_and_all_or_none_hold_one() -> None:
    lone = {"g": _fit(0.99, 0.98, [1], combiner_flag_lone=0.9935)}
    lone["c"] = _fit(0.99, 0.98, [2], combiner_flag_lone=0.995)
    out = merged(lone)
    assert out["combiner_flag_lone"] == 0.995
    assert out["merged_from"]["g"]["combiner_flag_lone"] == 0.9935
    assert "combiner_flag_lone" not in merged(
        {"a": _fit(0.99, 0.98, [1]), "b": _fit(0.99, 0.98, [2])}
    )
    with pytest.raises(ValueError, match="some of the files hold a lone line and some none"):
        merged({"g": lone["g"], "b": _fit(0.99, 0.98, [2])})
