"""The exported Sigma rules, converted by pySigma's DuckDB backend and run on a simulated
lake, match the same exchanges as the classifiers detect ran on it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from distillguard.detect.summary import DetectSummary
from distillguard.findings.sigma import write_sigma
from distillguard.profiles.hourly import ELICITED
from distillguard.signals.lexicon import CLASSIFIERS
from tests.findings.sigma_convert import matched_ids


@pytest.mark.parametrize("name", [c.name for c in CLASSIFIERS])
def test_sigma_rule_on_the_lake_agrees_with_the_signals(
    name: str, tiny_lake: Path, tiny_detect: DetectSummary, tmp_path: Path
) -> None:
    [rule] = [p for p in write_sigma(tmp_path) if p.stem == f"distillguard_{name}"]
    signals = (tiny_detect.out / "signals").as_posix()
    flagged = (
        duckdb.connect()
        .execute(
            f"SELECT request_id FROM read_parquet('{signals}/**/*.parquet') "
            f"WHERE p_{name} >= {ELICITED}"
        )
        .fetchall()
    )
    expected = {str(r[0]) for r in flagged}
    assert expected  # the simulated traffic has some of every kind
    assert matched_ids(tiny_lake, rule) == expected
