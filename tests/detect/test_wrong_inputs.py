"""Inputs that are not logs: one line, and nothing published (an empty run would close
every open finding of the run before it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.cli.main import main
from distillguard.detect.summary import DetectSummary


def test_a_detect_output_given_as_input_is_one_line(
    tiny_detect: DetectSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "again"
    assert main(["detect", str(tiny_detect.out), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is a detect output, not a lake" in err and err.count("\n") == 1
    assert not out.exists()


def test_input_without_one_exchange_publishes_nothing(
    tiny_detect: DetectSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"account_id": "a1", "label": "attack"}\n' * 3)
    out = tmp_path / "run"
    argv = ["detect", str(labels), "--out", str(out), "--previous", str(tiny_detect.out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "none of the 3 rows" in err and err.count("\n") == 1
    assert not out.exists()
