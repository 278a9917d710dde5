"""Detection end to end on simulated traffic: outputs, explanations, replay in time."""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import orjson
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from distillguard import __version__
from distillguard.cli.main import main
from distillguard.detect.case_files import read_run
from distillguard.detect.config import DetectConfig
from distillguard.detect.outputs import (
    ACCOUNT_COLUMNS,
    ACCOUNT_SCHEMA,
    CLUSTER_COLUMNS,
    CLUSTER_SCHEMA,
)
from distillguard.detect.run import detect
from distillguard.detect.summary import DetectSummary, ticks_shortfall
from distillguard.errors import ConfigError, UserError
from distillguard.evaluate.metrics import evaluate
from distillguard.ingest import ingest
from distillguard.simulate import SimSummary
from tests.findings.ocsf_validate import ocsf_errors


def test_outputs_have_the_promised_columns(tiny_detect: DetectSummary) -> None:
    out = tiny_detect.out
    assert pq.read_schema(out / "accounts.parquet").names == list(ACCOUNT_COLUMNS)
    assert pq.read_schema(out / "clusters.parquet").names == list(CLUSTER_COLUMNS)
    with (out / "accounts.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(tiny_detect.accounts) > 0
    assert (out / "report.html").read_text().startswith("<!doctype html>")


def test_the_accounts_table_lists_its_worklist_first(tiny_detect: DetectSummary) -> None:
    with (tiny_detect.out / "accounts.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    tiers = [0 if r["flagged"] == "True" else 1 if r["review"] == "True" else 2 for r in rows]
    assert tiers == sorted(tiers) and tiers[0] == 0
    for tier in set(tiers):
        scores = [float(r["score"]) for r, t in zip(rows, tiers, strict=True) if t == tier]
        assert scores == sorted(scores, reverse=True)
    clusters = pq.read_table(tiny_detect.out / "clusters.parquet").column("score").to_pylist()
    assert clusters == sorted(clusters, reverse=True)


def test_every_flag_has_a_time_and_evidence(tiny_detect: DetectSummary) -> None:
    flagged = [a for a in tiny_detect.accounts if a.flagged]
    assert flagged, "the tiny campaigns should be caught"
    for a in flagged:
        assert a.first_flagged_at is not None and a.flagged_by in ("account", "cluster")
        assert a.flagged_by == "cluster" or a.evidence
        for e in a.evidence:
            assert e.observed and e.inference and 0 < e.confidence < 1
    for a in tiny_detect.accounts:
        assert 0.0 <= a.score <= 1.0
        assert a.flagged or a.first_flagged_at is None


@pytest.mark.parametrize(
    ("decide_by", "setting", "low", "high"),
    [("rules", "review_threshold", 0.3, 0.8), ("combiner", "combiner_review", 0.02, 0.3)],
)
def test_review_lists_unflagged_accounts_at_the_review_threshold(
    tiny_lake: Path,
    tiny_sim: SimSummary,
    tmp_path: Path,
    *,
    decide_by: str,
    setting: str,
    low: float,
    high: float,
) -> None:
    """Review is graded below a flag: an account is listed when its score reached the
    review threshold, never when flagged; lowering the threshold only adds accounts."""
    configs = [
        DetectConfig(window_hours=24, decide_by=decide_by, **{setting: t})  # type: ignore[arg-type]
        for t in (low, high)
    ]
    runs = {
        getattr(c, setting): detect([tiny_lake], tmp_path / str(i), config=c)
        for i, c in enumerate(configs)
    }
    listed = {t: {a.account_id for a in s.accounts if a.review} for t, s in runs.items()}
    assert listed[low] > listed[high]
    for threshold, summary in runs.items():
        for a in summary.accounts:
            assert not (a.review and a.flagged)
            assert a.review <= (a.first_review_at is not None and a.score >= threshold)
        metrics = evaluate(summary.out, tiny_sim.files[2])
        assert metrics.review_tier.recall >= metrics.recall
        assert metrics.review_tier.false_positive_rate >= metrics.false_positive_rate


def test_findings_are_ocsf_detection_findings(tiny_detect: DetectSummary) -> None:
    lines = (tiny_detect.out / "findings.ocsf.jsonl").read_bytes().splitlines()
    assert len(lines) == tiny_detect.findings > 0
    for line in lines:
        finding = orjson.loads(line)
        assert (finding["class_uid"], finding["category_uid"], finding["type_uid"]) == (
            2004,
            2,
            200401,
        )
        assert finding["finding_info"]["uid"] and finding["resources"]
        assert 1 <= finding["severity_id"] <= 6
        assert ocsf_errors(finding) == []


def test_a_tick_sees_only_data_up_to_its_end(
    tiny_sim: SimSummary, tiny_detect: DetectSummary, tmp_path: Path
) -> None:
    """Replaying only the first half of the log flags the same accounts at the same times
    for every flag that fell in that half."""
    exchanges = pq.read_table(tiny_sim.files[0])
    cut = (
        pc.min(exchanges["ts"]).as_py().replace(hour=0)
        + (pc.max(exchanges["ts"]).as_py() - pc.min(exchanges["ts"]).as_py()) / 2
    )
    cut = cut.replace(minute=0, second=0, microsecond=0)
    early = tmp_path / "early.parquet"
    pq.write_table(exchanges.filter(pc.less(exchanges["ts"], cut)), early)
    lake = tmp_path / "lake"
    ingest([early], lake, [tiny_sim.files[1]])
    half = detect([lake], tmp_path / "detect")
    full_flags = {a.account_id: a.first_flagged_at for a in tiny_detect.accounts if a.flagged}
    half_flags = {a.account_id: a.first_flagged_at for a in half.accounts if a.flagged}
    expected = {a: t for a, t in full_flags.items() if t is not None and t <= cut}
    assert expected, "some account should be flagged in the first half"
    assert {a: half_flags.get(a) for a in expected} == expected
    assert all(isinstance(t, datetime) and t <= cut for t in half_flags.values() if t)


def test_evaluation_counts_campaigns(tiny_sim: SimSummary, tiny_detect: DetectSummary) -> None:
    metrics = evaluate(tiny_detect.out, tiny_sim.files[2])
    assert {c.campaign for c in metrics.campaigns} == {
        *("reasoning", "agentic", "hydra", "quiet"),
        *("bought", "sticky", "relay", "wave", "slow", "churn"),
    }
    assert 0 <= metrics.false_positive_rate <= 1 and 0 <= metrics.recall <= 1
    for c in metrics.campaigns:
        assert 0 <= c.leakage <= 1 and c.flagged <= c.accounts
        assert 0 <= c.review_leakage <= c.leakage  # a review comes no later than a flag
    assert metrics.false_positive_rate < 0.05
    point = metrics.at_budget
    assert point.false_positive_rate <= 0.01
    if metrics.false_positive_rate <= 0.01:  # flagged accounts score >= 0.85, so ranking by
        assert point.recall >= metrics.recall  # score within the same budget keeps them all
    assert set(point.recall_by_campaign) == {c.campaign for c in metrics.campaigns}


def test_cli_detect_and_evaluate(
    tiny_lake: Path, tiny_sim: SimSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["detect", str(tiny_lake), "--out", str(tmp_path / "d")]) == 0
    assert "flagged" in capsys.readouterr().out
    assert main(["evaluate", str(tmp_path / "d"), "--labels", str(tiny_sim.files[2])]) == 0
    printed = capsys.readouterr().out
    assert "account recall" in printed
    assert (tmp_path / "d" / "metrics.json").exists() and (tmp_path / "d" / "metrics.md").exists()
    # the two hour columns start their clocks at different times: the page says which
    table = printed.index("| median hours to flag |")
    assert printed.index("Hours to first flag: from the campaign's first exchange") > table


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        # each message says which values are good, and the value given
        ({"window_hours": 0}, r"window_hours must be a whole number of at least 1, got 0"),
        ({"window_hours": -3}, r"window_hours must be a whole number of at least 1, got -3"),
        ({"window_hours": 2.5}, r"window_hours must be a whole number of at least 1, got 2.5"),
        ({"window_hours": 2, "tick_hours": 3}, r"window_hours \(2\) must be at least tick_hours"),
        ({"account_threshold": 1.5}, r"account_threshold must be a number in \(0, 1\], got 1.5"),
        ({"cluster_every_hours": 0}, "cluster_every_hours must be a whole number of at least 1"),
        ({"cluster_every_hours": 5, "tick_hours": 2}, r"\(5\) must be a multiple of tick_hours"),
        ({"tick_hours": -1}, "tick_hours must be a whole number of at least 1, got -1"),
        ({"run_windows": 0}, "run_windows must be a whole number of at least 1"),
        ({"review_threshold": 0.9}, "review_threshold must not be above account_threshold"),
        ({"review_threshold": 0}, r"review_threshold must be a number in \(0, 1\], got 0"),
        ({"review_threshold": -1}, r"review_threshold must be a number in \(0, 1\], got -1"),
        ({"combiner_review": 0.9, "combiner_flag": 0.5}, "combiner_review"),
        ({"combiner_flag": 0}, "combiner_flag"),
        ({"combiner_flag": float("nan")}, r"combiner_flag must be a number in \(0, 1\], got nan"),
        ({"min_link": True}, "min_link must be a number in"),
        ({"seed": -1}, "seed must be a number from 0 up, got -1"),
        ({"decide_by": "magic"}, "combiner, rules"),
        ({"combiner_flag_lone": "no"}, "combiner_flag_lone must be a number from 0 up, got 'no'"),
    ],
)
def test_bad_settings_raise(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DetectConfig(**settings)  # type: ignore[arg-type]


def test_linking_in_runs_equals_one_run(tiny_lake: Path, tmp_path: Path) -> None:
    """Key codes built run by run (runs of one 24-hour window: four runs on this 4-day log)
    flag the same accounts at the same times, in the same clusters, as codes for the whole
    log."""
    runs = detect(
        [tiny_lake], tmp_path / "runs", config=DetectConfig(window_hours=24, run_windows=1)
    )
    whole = detect(
        [tiny_lake], tmp_path / "whole", config=DetectConfig(window_hours=24, run_windows=1000)
    )

    def flags(summary: DetectSummary) -> dict[str, tuple[object, ...]]:
        return {
            a.account_id: (a.first_flagged_at, a.cluster_id, round(a.score, 6))
            for a in summary.accounts
        }

    assert any(a.flagged for a in whole.accounts)
    assert flags(runs) == flags(whole)
    assert [round(c.score, 6) for c in runs.clusters] == [round(c.score, 6) for c in whole.clusters]


def test_a_run_that_flags_nothing_writes_typed_tables(
    tiny_lake: Path, tiny_sim: SimSummary, tmp_path: Path
) -> None:
    """With nothing flagged, first_flagged_at and cluster_id are all empty; they must still be
    typed (not Arrow's null type), or readers such as evaluate cannot do time arithmetic."""
    strict = DetectConfig(
        window_hours=24,
        account_threshold=1.0,
        cluster_threshold=1.0,
        combiner_flag=1.0,
        combiner_review=1.0,
    )
    summary = detect([tiny_lake], tmp_path / "d", config=strict)
    assert not any(a.flagged for a in summary.accounts)
    for name, schema in (("accounts", ACCOUNT_SCHEMA), ("clusters", CLUSTER_SCHEMA)):
        assert pq.read_schema(tmp_path / "d" / f"{name}.parquet") == schema
    metrics = evaluate(tmp_path / "d", tiny_sim.files[2])
    assert metrics.recall == 0.0 and all(c.leakage == 1.0 for c in metrics.campaigns)


def test_evaluating_an_older_output_asks_for_a_new_detect(
    tiny_detect: DetectSummary, tiny_sim: SimSummary, tmp_path: Path
) -> None:
    shutil.copytree(tiny_detect.out, tmp_path / "old")
    table = pq.read_table(tmp_path / "old" / "accounts.parquet")
    pq.write_table(table.drop_columns(["review"]), tmp_path / "old" / "accounts.parquet")
    with pytest.raises(UserError, match="older detect"):
        evaluate(tmp_path / "old", tiny_sim.files[2])


def test_more_flag_ticks_than_the_log_holds_is_said(tiny_lake: Path, tmp_path: Path) -> None:
    """A --flag-ticks beyond the log's linking ticks can flag nobody on their own; the
    summary line says so rather than reporting a quiet log."""
    summary = detect([tiny_lake], tmp_path / "d", config=DetectConfig(combiner_flag_ticks=10_000))
    short = summary.short_of_ticks
    assert short is not None and not short.peer
    held = short.held
    assert 0 < held < short.needed == 10_000
    assert not any(a.flagged_by == "account" for a in summary.accounts)
    assert f"held {held} linking tick(s), fewer than the 10000" in summary.line()
    assert "no account could be flagged" in summary.line()


@pytest.mark.parametrize(
    ("decide_by", "ticks", "held", "peer", "said"),
    [
        ("combiner", 2, 1, False, "no account could be flagged"),
        # a strong peer match stands in for the ticks (detect/boost.py)
        ("combiner", 2, 1, True, "only an account with a strong peer indicator match"),
        ("combiner", 2, 2, False, None),
        ("rules", 2, 1, False, None),  # the rules do not wait for ticks
    ],
)
def test_when_a_short_log_is_said(
    decide_by: str, ticks: int, held: int, peer: bool, said: str | None
) -> None:
    config = DetectConfig(decide_by=decide_by, combiner_flag_ticks=ticks)
    short = ticks_shortfall(held, config, peer=peer)
    if said is None:
        assert short is None
    else:
        assert short is not None and said in short.text()


def test_the_run_records_what_it_decided_by(tiny_detect: DetectSummary) -> None:
    """run.json held the lake and the finish time only: nothing said whether the rules or
    the combiner decided, at which lines, over which window: what an audit of a block asks."""
    run = read_run(tiny_detect.out)
    settings = run["settings"]
    assert {k: settings[k] for k in ("decide_by", "combiner_flag", "window_hours", "seed")} == {
        "decide_by": DetectConfig.decide_by,
        "combiner_flag": DetectConfig.combiner_flag,
        "window_hours": DetectConfig.window_hours,
        "seed": DetectConfig.seed,
    }
    assert settings["engine"] == "duckdb" and settings["peer_indicators"] is False
    assert run["version"] == __version__
