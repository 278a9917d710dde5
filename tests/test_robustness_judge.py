"""The robustness judge refuses thresholds that were frozen for another combiner: judging
the shipped model at a candidate's thresholds reports figures of neither."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

import benchmarks.robustness.worlds as worlds_module
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from benchmarks.robustness.judging import read_baseline
from benchmarks.robustness.report import markdown
from benchmarks.robustness.run import judge, rejudge
from benchmarks.robustness.settings import corpus_of, scale_of, share_arg, warn_unlike_fit
from benchmarks.robustness.worlds import World, WorldSpec, load_world

from distillguard.detect.config import DetectConfig
from distillguard.scoring.combiner import shipped
from distillguard.simulate import SIMULATOR_VERSION
from distillguard.simulate.config import load_preset, plan


def _frozen(folder: Path, model: dict[str, object]) -> argparse.Namespace:
    thresholds = {"flag": 0.99, "review": 0.98}
    frozen = {
        "model": model,
        "fit_seeds": [1],
        "combiner": thresholds,
        "rules": thresholds,
        "commit": "c",
        "frozen_at": "t",
        "flag_ticks": DetectConfig().combiner_flag_ticks,
    }
    (folder / "frozen.json").write_text(json.dumps(frozen))
    return argparse.Namespace(
        out=folder,
        frozen=None,
        worlds=0,
        scale=0.6,
        max_scale=None,
        days=None,
        jobs=1,
        baseline=None,
    )


def test_judge_refuses_thresholds_frozen_for_another_combiner(tmp_path: Path) -> None:
    other = {**shipped().about, "train_seeds": [101, 102]}
    with pytest.raises(SystemExit, match="another combiner"):
        judge(_frozen(tmp_path, other))
    assert not (tmp_path / "judge.json").exists()


def test_judge_refuses_thresholds_fit_at_other_flag_ticks(tmp_path: Path) -> None:
    args = _frozen(tmp_path, shipped().about)
    frozen = json.loads((tmp_path / "frozen.json").read_text())
    other = DetectConfig().combiner_flag_ticks + 1
    (tmp_path / "frozen.json").write_text(json.dumps({**frozen, "flag_ticks": other}))
    with pytest.raises(SystemExit, match=f"fit at {other} flag tick"):
        judge(args)
    assert not (tmp_path / "judge.json").exists()


def test_judge_refuses_without_frozen_thresholds(tmp_path: Path) -> None:
    args = argparse.Namespace(out=tmp_path, frozen=None, worlds=0, baseline=None)
    with pytest.raises(SystemExit, match="run 'fit' first"):
        judge(args)


@pytest.mark.parametrize(
    ("text", "message"), [("{not json", "is not JSON"), ("[1, 2]", "missing"), ("{}", "missing")]
)
def test_judge_refuses_a_frozen_file_fit_did_not_write(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "frozen.json").write_text(text)
    args = argparse.Namespace(out=tmp_path, frozen=None, worlds=0, baseline=None)
    with pytest.raises(SystemExit, match=message):
        judge(args)


def test_a_world_cached_under_another_spec_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "worlds" / "seed-7"
    folder.mkdir(parents=True)
    for name in ("accounts", "ticks"):
        pq.write_table(pa.table({"account_id": ["a"]}), folder / f"{name}.parquet")
    first = WorldSpec(7, 0.6, simulator=1)  # cached before specs: the grammar, version 1
    assert load_world(first, tmp_path / "worlds", tmp_path).accounts.num_rows == 1
    for other in (WorldSpec(7, 0.6, corpus=tmp_path, simulator=1), WorldSpec(7, 0.6)):
        with pytest.raises(SystemExit, match="another spec or simulator version"):
            load_world(other, tmp_path / "worlds", tmp_path)
    (folder / "spec.json").write_text(json.dumps({"seed": 7, "scale": 1.0}))
    with pytest.raises(SystemExit, match="another spec"):
        load_world(WorldSpec(7, 0.6, simulator=1), tmp_path / "worlds", tmp_path)
    # A spec kept before versions were: the first simulator's.
    old = {"seed": 7, "scale": 0.6, "days": None, "corpus": None}
    (folder / "spec.json").write_text(json.dumps(old))
    assert load_world(WorldSpec(7, 0.6, simulator=1), tmp_path / "worlds", tmp_path)
    with pytest.raises(SystemExit, match="simulator version"):
        load_world(WorldSpec(7, 0.6), tmp_path / "worlds", tmp_path)


def test_a_world_run_now_is_cached_with_the_simulators_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny = World(pa.table({"account_id": ["a"]}), pa.table({"account_id": ["a"]}))
    monkeypatch.setattr(worlds_module, "run_world", lambda spec, work: tiny)
    spec = WorldSpec(8, 0.6)
    assert load_world(spec, tmp_path / "worlds", tmp_path).accounts.num_rows == 1
    kept = json.loads((tmp_path / "worlds" / "seed-8" / "spec.json").read_text())
    assert kept["simulator"] == SIMULATOR_VERSION
    monkeypatch.setattr(worlds_module, "run_world", lambda spec, work: pytest.fail("ran again"))
    cached = load_world(spec, tmp_path / "worlds", tmp_path)
    assert cached.accounts.num_rows == 1
    assert cached.traffic is None  # none kept: leakage is left out, not counted as zero


def test_a_worlds_attack_traffic_is_cached_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    traffic = pa.table({"account_id": ["a"], "hour": [datetime(2026, 2, 1, 3)], "n": [4]})
    tiny = World(pa.table({"account_id": ["a"]}), pa.table({"account_id": ["a"]}), traffic)
    monkeypatch.setattr(worlds_module, "run_world", lambda spec, work: tiny)
    load_world(WorldSpec(9, 0.6), tmp_path / "worlds", tmp_path)
    monkeypatch.setattr(worlds_module, "run_world", lambda spec, work: pytest.fail("ran again"))
    cached = load_world(WorldSpec(9, 0.6), tmp_path / "worlds", tmp_path).traffic
    assert cached is not None and cached.equals(traffic)


def test_world_sizes_are_drawn_per_seed_within_the_range() -> None:
    sizes = [scale_of(seed, 0.5, 4.0) for seed in range(101, 181)]
    assert sizes == [scale_of(seed, 0.5, 4.0) for seed in range(101, 181)]  # the seed's own
    assert all(0.5 <= s <= 4.0 for s in sizes)
    assert min(sizes) < 1.0 and max(sizes) > 2.0  # the range is used, not one size
    assert scale_of(101, 0.6, None) == 0.6


@pytest.mark.parametrize(("scale", "max_scale"), [(2.0, 1.0), (0.0, 1.0), (-1.0, 2.0)])
def test_a_size_range_upside_down_or_from_zero_is_refused(scale: float, max_scale: float) -> None:
    with pytest.raises(SystemExit, match="--max-scale"):
        scale_of(101, scale, max_scale)


def test_a_corpus_share_draws_each_worlds_prompt_source_from_its_seed(tmp_path: Path) -> None:
    seeds = range(101, 181)
    real = [s for s in seeds if corpus_of(s, tmp_path, 0.5)]
    assert real == [s for s in seeds if corpus_of(s, tmp_path, 0.5)]  # the seed's own
    assert 0.3 * len(seeds) < len(real) < 0.7 * len(seeds)
    assert all(corpus_of(s, tmp_path, 1.0) == tmp_path for s in seeds)
    assert not any(corpus_of(s, tmp_path, 0.0) for s in seeds)
    assert corpus_of(101, None, 0.5) is None
    # a larger share keeps every world a smaller one drew from the corpora
    assert set(real) <= {s for s in seeds if corpus_of(s, tmp_path, 0.8)}


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_a_corpus_share_outside_zero_to_one_is_refused(tmp_path: Path, share: float) -> None:
    with pytest.raises(SystemExit, match="--corpus-share"):
        corpus_of(101, tmp_path, share)


def test_rejudge_needs_an_earlier_judge_and_never_simulates_a_world_again(tmp_path: Path) -> None:
    args = _frozen(tmp_path, shipped().about)
    with pytest.raises(SystemExit, match="re-scores the worlds of an earlier judge"):
        rejudge(args)
    (tmp_path / "judge.json").write_text(json.dumps({"seeds": [5], "drawn_at": "then"}))
    with pytest.raises(SystemExit, match="never simulated again"):
        rejudge(args)
    assert not (tmp_path / "rejudge.json").exists() and not (tmp_path / "work").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not JSON"),
        ("[1]", "not a judge.json"),
        ("{}", "not a judge.json"),
        ('{"seeds": [], "drawn_at": "t"}', "not a judge.json"),
        ('{"seeds": [1, "x"], "drawn_at": "t"}', "not a judge.json"),
        ('{"seeds": [1]}', "not a judge.json"),
    ],
)
def test_rejudge_refuses_a_judge_record_judge_did_not_write(
    tmp_path: Path, text: str, message: str
) -> None:
    args = _frozen(tmp_path, shipped().about)
    (tmp_path / "judge.json").write_text(text)
    with pytest.raises(SystemExit, match=message):
        rejudge(args)


def test_a_wrong_baseline_folder_is_refused_before_any_world_runs(tmp_path: Path) -> None:
    args = _frozen(tmp_path, shipped().about)
    args.baseline, args.worlds = tmp_path / "nowhere", 1
    with pytest.raises(SystemExit, match=r"holds no frozen\.json"):
        judge(args)
    (tmp_path / "nowhere").mkdir()
    _frozen(tmp_path / "nowhere", {"another": "model"})
    with pytest.raises(SystemExit, match=r"holds no combiner\.json, and its frozen\.json"):
        judge(args)
    assert not (tmp_path / "judge.json").exists() and not (tmp_path / "worlds").exists()


def test_a_baseline_of_the_shipped_model_at_other_thresholds_needs_no_copy(
    tmp_path: Path,
) -> None:
    _frozen(tmp_path, shipped().about)
    baseline = read_baseline(tmp_path)
    assert baseline.model.about == shipped().about
    assert baseline.thresholds == {"flag": 0.99, "review": 0.98}
    assert baseline.ticks == DetectConfig().combiner_flag_ticks
    assert baseline.lone is None, "fit before lone lines: every tick at the flag line"


def test_a_corrupt_cached_spec_is_a_one_line_error(tmp_path: Path) -> None:
    folder = tmp_path / "worlds" / "seed-9"
    folder.mkdir(parents=True)
    for name in ("accounts", "ticks"):
        pq.write_table(pa.table({"account_id": ["a"]}), folder / f"{name}.parquet")
    for text in ("{oops", "[1, 2]"):
        (folder / "spec.json").write_text(text)
        with pytest.raises(SystemExit, match="is not a world's spec"):
            load_world(WorldSpec(9, 0.6), tmp_path / "worlds", tmp_path)


def test_a_rejudged_record_says_its_worlds_are_not_fresh() -> None:
    record = {
        "frozen": {"model": {}, "fit_seeds": [1], "frozen_at": "t", "commit": "c"},
        "seeds": [5, 6],
        "drawn_at": "then",
        "rejudged_from": "out/judge.json",
    }
    text = markdown(record)
    assert "re-scored on the 2 worlds of an earlier judge" in text
    assert "not fresh evidence" in text and "fresh worlds" not in text
    del record["rejudged_from"]
    assert "judged on 2 fresh worlds" in markdown(record)


@pytest.mark.parametrize(
    ("size", "said"),
    [
        ({}, "scale 0.6, days not recorded"),
        ({"days": None}, "scale 0.6, 7 days"),
        ({"days": 14, "max_scale": 2.5}, "scale 0.6-2.5, 14 days"),
    ],
)
def test_a_judges_tables_say_the_worlds_size_and_length(size: dict[str, object], said: str) -> None:
    record = {
        "frozen": {"model": {}, "fit_seeds": [1], "frozen_at": "t", "commit": "c"},
        "seeds": [5],
        "drawn_at": "now",
        "scale": 0.6,
        **size,
    }
    assert f"; {said}." in markdown(record)


@pytest.mark.parametrize(
    ("scale", "max_scale", "days", "said"),
    [
        (0.6, None, None, ""),
        (0.6, None, 7, ""),  # the preset's 7 days, given or not
        (0.6, None, 14, ""),
        (0.3, None, 7, "judging at scale 0.3; the thresholds were fit at scale 0.6\n"),
        (0.6, 2.5, 7, "judging at scale 0.6-2.5; the thresholds were fit at scale 0.6\n"),
        (0.6, None, 30, "judging 30-day worlds; the thresholds were fit at 7, 14 days\n"),
    ],
)
def test_a_judge_of_another_size_than_the_fit_says_so(
    capsys: pytest.CaptureFixture[str],
    scale: float,
    max_scale: float | None,
    days: int | None,
    said: str,
) -> None:
    frozen = {"scale": 0.6, "merged_from": {"a": {"days": None}, "b": {"days": 14}, "c": {}}}
    warn_unlike_fit(frozen, argparse.Namespace(scale=scale, max_scale=max_scale, days=days))
    assert capsys.readouterr().out == (f"note: {said}" if said else "")


def test_a_stress_test_s_worlds_are_cached_apart(tmp_path: Path) -> None:
    folder = tmp_path / "worlds" / "seed-7"
    folder.mkdir(parents=True)
    for name in ("accounts", "ticks"):
        pq.write_table(pa.table({"account_id": ["a"]}), folder / f"{name}.parquet")
    kept = {"seed": 7, "scale": 0.6, "days": None, "corpus": None, "simulator": 4}
    (folder / "spec.json").write_text(json.dumps(kept))  # kept before the stress test
    assert load_world(WorldSpec(7, 0.6, simulator=4), tmp_path / "worlds", tmp_path)
    declaring = WorldSpec(7, 0.6, simulator=4, campaigns_declare=1.0)
    with pytest.raises(SystemExit, match="another spec"):
        load_world(declaring, tmp_path / "worlds", tmp_path)


@pytest.mark.parametrize("share", [0.0, 0.4, 1.0])
def test_a_stress_test_s_campaigns_keep_their_declarations_in_every_world(
    tmp_path: Path, share: float
) -> None:
    path = worlds_module._preset(WorldSpec(7, 0.6, campaigns_declare=share), tmp_path)
    for seed in range(5):
        populations = plan(load_preset(path), randomize=seed).populations
        drawn = {p.behaviour.org_declared for p in populations if p.behaviour.label == "attack"}
        assert drawn == {share}
    assert worlds_module._preset(WorldSpec(7, 0.6), tmp_path) == "randomized"


@pytest.mark.parametrize("text", ["1.5", "-0.1", "some", "nan"])
def test_a_share_outside_zero_to_one_is_a_one_line_error(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="a number from 0 to 1"):
        share_arg(text)


def test_a_stress_test_s_tables_say_so() -> None:
    record = {
        "frozen": {"model": {}, "fit_seeds": [1], "frozen_at": "t", "commit": "c"},
        "seeds": [5],
        "drawn_at": "now",
        "scale": 0.6,
        "days": None,
    }
    assert "stress test" not in markdown(record)
    record["campaigns_declare"] = 1.0
    assert "each campaign card group declares an organisation (chance 1.0)" in markdown(record)
