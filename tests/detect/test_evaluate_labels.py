"""evaluate against labels that cover part of the run, and its JSON as strict parsers read it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from distillguard.cli.main import main
from distillguard.detect.summary import DetectSummary
from distillguard.evaluate.metrics import evaluate
from distillguard.evaluate.report import markdown
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
    assert "no score threshold fits" in markdown(none_fit) and ">= inf" not in markdown(none_fit)


def test_a_rate_with_nothing_to_count_is_not_shown_as_zero(
    tiny_detect: DetectSummary, tiny_sim: SimSummary, tmp_path: Path
) -> None:
    """Labels of benign accounts only: recall has no attack account to count, so it is n/a
    in the text and null in the JSON, never a recall of 0.000 that reads as a miss."""
    labels = _labels_with(
        tmp_path, tiny_sim.files[2], "SELECT * FROM labels WHERE label = 'benign'"
    )
    metrics = evaluate(tiny_detect.out, labels)
    assert metrics.attack_accounts == 0 and metrics.benign_accounts > 0
    table = json.loads(metrics.to_json())
    assert table["recall"] is None and table["review_tier"]["recall"] is None
    assert table["false_positive_rate"] is not None
    assert "| account recall | n/a |" in markdown(metrics) and "nan" not in markdown(metrics)


def _labels_with(tmp_path: Path, labels: Path, change: str) -> Path:
    """The labels table rewritten by a DuckDB query over it (`labels`)."""
    out = tmp_path / "changed.parquet"
    con = duckdb.connect()
    con.execute(f"CREATE VIEW labels AS SELECT * FROM read_parquet('{labels}')")
    con.execute(f"COPY ({change}) TO '{out}' (FORMAT parquet)")
    return out


# (case, the labels as a query over the true ones, what the one-line refusal says)
BAD_LABELS = [
    ("every row twice", "SELECT * FROM labels UNION ALL SELECT * FROM labels", "more than once"),
    (
        "an account in both classes",
        "SELECT * FROM labels UNION ALL (SELECT * REPLACE ('benign' AS label) FROM labels"
        " WHERE label = 'attack' LIMIT 1)",
        "more than once",
    ),
    (
        "an attack of no campaign",
        "SELECT * REPLACE (CASE WHEN label = 'attack' THEN NULL ELSE campaign END AS campaign)"
        " FROM labels",
        "attack row(s) without a campaign",
    ),
]


@pytest.mark.parametrize("bad", BAD_LABELS, ids=[b[0] for b in BAD_LABELS])
def test_labels_that_would_miscount_are_refused_in_one_line(
    tiny_detect: DetectSummary,
    tiny_sim: SimSummary,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    bad: tuple[str, str, str],
) -> None:
    """Twice-named accounts were counted twice (in both classes when their labels
    differed), and attacks of no campaign were reported as a campaign named None."""
    case, change, message = bad
    labels = _labels_with(tmp_path, tiny_sim.files[2], change)
    assert main(["evaluate", str(tiny_detect.out), "--labels", str(labels)]) == 2, case
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def _garbled(data: bytes, where: float) -> bytes:
    """`data` with 8 bytes overwritten at a share `where` of its length (not its magic)."""
    at = min(max(4, int(len(data) * where)), len(data) - 12)
    return data[:at] + bytes(range(200, 208)) + data[at + 8 :]


def _garbled_footer(data: bytes) -> bytes:
    """`data` with 8 bytes overwritten in the middle of its Parquet footer (the metadata
    before the last 8 bytes: its length, then the magic), wherever the row order put it."""
    footer = int.from_bytes(data[-8:-4], "little")
    at = len(data) - 8 - footer // 2
    return data[:at] + bytes(range(200, 208)) + data[at + 8 :]


# (case, what the accounts table's file becomes from its good bytes)
DAMAGES = [
    ("not Parquet", lambda data: b"junk\n"),
    ("magic at both ends, nothing between", lambda data: b"PAR1" + b"x" * 100 + b"PAR1"),
    ("cut short", lambda data: data[: len(data) // 2]),
    ("pages garbled", lambda data: _garbled(data, 0.3)),
    ("footer garbled", _garbled_footer),
]


@pytest.mark.parametrize("damage", DAMAGES, ids=[d[0] for d in DAMAGES])
def test_a_damaged_results_file_is_one_line(
    tiny_detect: DetectSummary,
    tiny_sim: SimSummary,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: tuple[str, Callable[[bytes], bytes]],
) -> None:
    """DuckDB's errors for a damaged Parquet file were tracebacks (some of them are plain
    duckdb.Error, from Thrift reading a garbled footer)."""
    copy = tmp_path / "detect"
    shutil.copytree(tiny_detect.out, copy)
    table = copy / "accounts.parquet"
    table.write_bytes(damage[1](table.read_bytes()))
    code = main(["evaluate", str(copy), "--labels", str(tiny_sim.files[2])])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1, (damage[0], err)


def test_a_lake_given_for_the_detect_folder_is_named_as_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`evaluate LAKE` said only that LAKE had no accounts.parquet."""
    lake = tmp_path / "lake"
    (lake / "exchanges" / "date=2026-02-02").mkdir(parents=True)
    assert main(["evaluate", str(lake), "--labels", str(tmp_path / "labels.parquet")]) == 2
    err = capsys.readouterr().err
    assert f"{lake} is a lake" in err and "distillguard detect" in err and err.count("\n") == 1


def test_a_simulate_folder_given_for_the_detect_folder_is_named_as_one(
    tiny_sim: SimSummary, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tiny_sim.files[0].parent
    assert main(["evaluate", str(folder), "--labels", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "is what simulate writes" in err and err.count("\n") == 1


def test_demo_refuses_a_file_for_its_folder_before_simulating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    given = tmp_path / "labels.parquet"
    given.write_bytes(b"x")
    assert main(["demo", "--out", str(given)]) == 2
    captured = capsys.readouterr()
    assert "is a file" in captured.err and "simulate" not in captured.out
