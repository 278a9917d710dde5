"""Does sharing help? Two providers, one operator: B detects with and without A's bundle.

    python -m benchmarks.sharing.run [--out bench-out/sharing] [--corpus DIR] [--days 6]
        [--decide-by combiner|rules]

Each provider is simulated with its own benign world (its own seed). One operator harvests
both with the same instruction templates and tooling (the simulator's `operator_templates`
and `operator_seed` knobs), through different accounts; it reaches provider B four days
after A. A detects and exports a keyed STIX bundle; B detects without it, then with
`--indicators`. B's recall, false-positive rate, leakage and time to detect are compared,
and the benign accounts flagged in each run are listed. Every run uses the same decider
(`--decide-by`, detect's default unless given).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from distillguard.detect.config import DetectConfig
from distillguard.detect.run import detect
from distillguard.evaluate.metrics import Metrics, evaluate, undefined_as_null
from distillguard.ingest import ingest
from distillguard.ingest.lake import sql_path
from distillguard.sharing import keys
from distillguard.sharing.boost import PeerBoost
from distillguard.sharing.export import ExportOptions, export
from distillguard.simulate import simulate

PRESET = """
days: {days}
start: "{start}"
models:
  current: [model-large-2025-10, model-fast-2025-10, model-large-2025-06]
  new: model-large-2026-02
  release_day: 3
benign:
  casual: {{accounts: 5600}}
  power_user: {{accounts: 260}}
  coding_agent: {{accounts: 580}}
  batch_pipeline: {{accounts: 30}}
  eval_runner: {{accounts: 30}}
  app_backend: {{accounts: 30}}
  ci_agent: {{accounts: 30}}
  student: {{accounts: 1000}}
campaigns:
  operator: {{archetype: agentic, accounts: 30, exchanges: 40000,
              operator_templates: 12, operator_seed: 4242}}
"""
STARTS = {"A": "2026-02-02T00:00:00Z", "B": "2026-02-06T00:00:00Z"}
SEEDS = {"A": 101, "B": 202}


def _provider(name: str, work: Path, days: int, corpus: Path | None) -> Path:
    """Simulate and ingest one provider; returns its directory."""
    root = work / name
    preset = root / "preset.yaml"
    root.mkdir(parents=True)
    preset.write_text(PRESET.format(days=days, start=STARTS[name]))
    sim = simulate(str(preset), root / "traffic", seed=SEEDS[name], corpus=corpus)
    ingest([sim.files[0]], root / "lake", [sim.files[1]])
    return root


def _flagged_benign(out: Path, labels: Path) -> list[str]:
    """The benign accounts a run flagged, with their population (for the FPR check)."""
    sql = (
        f"SELECT l.population || ':' || r.account_id "
        f"FROM read_parquet('{sql_path(out / 'accounts.parquet')}') r "
        f"JOIN read_parquet('{sql_path(labels)}') l USING (account_id) "
        "WHERE r.flagged AND l.label = 'benign' ORDER BY 1"
    )
    return [str(row[0]) for row in duckdb.connect().execute(sql).fetchall()]


def _matched(boost: PeerBoost, labels: Path) -> dict[str, list[float]]:
    """B's accounts with any exchange matching A's indicators, by label: each one's match
    strength over its whole log, highest first (what decides whether a match stands in
    for the ticks a flag waits for)."""
    sql = f"SELECT account_id, label FROM read_parquet('{sql_path(labels)}')"
    label = dict(duckdb.connect().execute(sql).fetchall())
    ids = np.asarray(sorted(boost.events))
    end = np.full(len(ids), np.datetime64("9999-01-01T00:00:00", "us"))
    strength = boost.columns(ids, end)["peer_strength"] if len(ids) else np.zeros(0)
    out: dict[str, list[float]] = {}
    for account, value in zip(ids.tolist(), strength.tolist(), strict=True):
        out.setdefault(str(label.get(account, "unlabelled")), []).append(round(value, 3))
    return {name: sorted(values, reverse=True) for name, values in sorted(out.items())}


def _row(out: Path, labels: Path) -> dict[str, Any]:
    metrics: Metrics = evaluate(out, labels)
    campaign = next(c for c in metrics.campaigns if c.campaign == "operator")
    return {
        "recall": metrics.recall,
        "false_positive_rate": metrics.false_positive_rate,
        "benign_accounts": metrics.benign_accounts,
        "flagged_benign": _flagged_benign(out, labels),
        "campaign": asdict(campaign),
    }


def _timed(seconds: dict[str, float], stage: str, started: float) -> None:
    seconds[stage] = round(time.perf_counter() - started, 1)


def run(work: Path, days: int, corpus: Path | None, config: DetectConfig) -> dict[str, Any]:
    shutil.rmtree(work, ignore_errors=True)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    a, b = (_provider(n, work, days, corpus) for n in ("A", "B"))
    _timed(seconds, "simulate_ingest", started)
    key = keys.generate()
    started = time.perf_counter()
    detect([a / "lake"], a / "detect", config=config)
    summary = export(a / "detect", key, a / "bundle.json", ExportOptions("provider A"), a / "lake")
    _timed(seconds, "A_detect_export", started)
    started = time.perf_counter()
    detect([b / "lake"], b / "without", config=config)
    _timed(seconds, "B_detect_without", started)
    started = time.perf_counter()
    boost = PeerBoost.from_files(a / "bundle.json", key)
    detect([b / "lake"], b / "with", config=config, boost=boost)
    _timed(seconds, "B_detect_with", started)
    labels = b / "traffic" / "labels.parquet"
    return {
        "decide_by": config.decide_by,
        "bundle": {"campaigns": summary.campaigns, "indicators": summary.indicators},
        "A": _row(a / "detect", a / "traffic" / "labels.parquet"),
        "B_without": _row(b / "without", labels),
        "B_with": _row(b / "with", labels),
        "B_matched_accounts": _matched(boost, labels),
        "seconds": seconds,
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| run | recall | benign FPR | campaign recall | leakage | hours to first flag "
        "| median hours to flag |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("A", "B_without", "B_with"):
        r, c = result[name], result[name]["campaign"]
        first = c["hours_to_first_flag"]
        median = c["median_hours_to_flag"]
        lines.append(
            f"| {name} | {r['recall']:.3f} | {r['false_positive_rate']:.4%} | {c['recall']:.3f} "
            f"| {c['leakage']:.1%} | {'-' if first is None else f'{first:.1f}'} "
            f"| {'-' if median is None else f'{median:.1f}'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench-out/sharing"))
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--decide-by", choices=("combiner", "rules"), default=None)
    args = parser.parse_args()
    config = DetectConfig() if args.decide_by is None else DetectConfig(decide_by=args.decide_by)
    result = run(args.out / "work", args.days, args.corpus, config)
    # strict JSON: a rate with nothing to count (NaN) is written null, as evaluate's is
    strict = json.dumps(undefined_as_null(result), indent=2, default=str, allow_nan=False)
    (args.out / "result.json").write_text(strict)
    print(json.dumps(result["bundle"]), json.dumps(result["seconds"]))
    print(markdown(result))
    for label, strengths in result["B_matched_accounts"].items():
        print(f"B {label} accounts matching A's indicators: {len(strengths)}, strengths", strengths)
    for name in ("A", "B_without", "B_with"):
        print(name, "flagged benign:", ", ".join(result[name]["flagged_benign"]) or "none")


if __name__ == "__main__":
    main()
