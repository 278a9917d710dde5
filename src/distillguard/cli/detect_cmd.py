"""`distillguard detect` and `distillguard evaluate`."""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from distillguard.cli.common import (
    Subparsers,
    add_command,
    add_json_flag,
    fitted_table,
    out_path,
    print_json,
    progress,
    progress_bars,
    stdout_console,
)
from distillguard.detect.allowlist import load_allowlist
from distillguard.detect.config import DECIDERS, DetectConfig
from distillguard.detect.run import detect
from distillguard.detect.summary import DetectSummary
from distillguard.engine.base import ENGINES, get_engine
from distillguard.errors import ConfigError, UserError
from distillguard.evaluate.metrics import evaluate, markdown, write_metrics
from distillguard.findings.collect import FindingsOptions
from distillguard.findings.fingerprints import read_key
from distillguard.findings.responses import GatewayAction
from distillguard.ingest.remote import RemoteLake, is_uri
from distillguard.sharing import keys
from distillguard.sharing.boost import PeerBoost
from distillguard.verdicts.store import open_store


def register(subparsers: Subparsers) -> None:
    _register_detect(subparsers)
    _register_evaluate(subparsers)


def _register_detect(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "detect",
        summary="flag distillation accounts and clusters, with the evidence",
        description="Replay a lake hour by hour, as if live: score every account on its own "
        "traffic over a moving window, link accounts that share payment, sign-up "
        "infrastructure or prompt templates into clusters, and flag the accounts and clusters "
        "that harvest, each with the tick it was first flagged at and the evidence. Writes "
        "accounts and clusters (CSV and Parquet), OCSF findings (JSON lines) and report.html "
        "to DIR.",
        examples=[
            ("detect on a lake", "distillguard detect lake --out detections"),
            (
                "detect straight from log files (ingested into DIR/lake first)",
                "distillguard detect logs/*.jsonl.gz --accounts accounts.jsonl --out detections",
            ),
            (
                "a 56-day log: longer runs, more memory, faster",
                "distillguard detect lake --out d --run-windows 4",
            ),
            (
                "on Spark in local mode, the same results",
                "distillguard detect lake --out d --engine spark --spark-master 'local[2]'",
            ),
        ],
    )
    _input_options(p)
    _output_options(p)
    _replay_options(p)
    _decision_options(p)
    _finding_options(p)
    _peer_options(p)
    _engine_choice_options(p)
    p.set_defaults(run=run_detect)


def _input_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("input")
    g.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a lake, or exchange-log files or folders of them (a folder 'simulate' wrote: "
        "its log, with its accounts table as --accounts; its labels are never read); with "
        "--engine spark, a lake's URI (hdfs://, s3a://, abfss://, gs://, file://...) is read "
        "where it lies",
    )
    g.add_argument(
        "--accounts",
        action="append",
        type=Path,
        default=[],
        metavar="PATH",
        help="an accounts table, when PATH is log files (a lake has its own)",
    )


def _output_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("results")
    g.add_argument(
        "--out", required=True, type=out_path, metavar="DIR", help="the folder to write results to"
    )
    g.add_argument(
        "--previous",
        type=Path,
        metavar="DIR",
        help="the last run's output folder, whose findings this run updates or closes "
        "(default: --out, read before it is replaced)",
    )
    add_json_flag(g, "the run's counts and flagged clusters")


def _replay_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("replay")
    g.add_argument(
        "--window-hours",
        type=int,
        metavar="HOURS",
        default=DetectConfig.window_hours,
        help="the moving window each account is profiled over, in hours",
    )
    g.add_argument(
        "--cluster-every-hours",
        type=int,
        metavar="HOURS",
        default=DetectConfig.cluster_every_hours,
        help="how often, in replayed hours, accounts are linked and clusters scored",
    )
    g.add_argument(
        "--run-windows",
        type=int,
        metavar="N",
        default=DetectConfig.run_windows,
        help="replay in runs this many windows long: longer is faster and holds more memory",
    )
    g.add_argument(
        "--seed",
        type=int,
        metavar="N",
        default=0,
        help="seed for community detection: the same seed, the same clusters",
    )


def _decision_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("deciding")
    g.add_argument(
        "--decide-by",
        choices=DECIDERS,
        default=DetectConfig.decide_by,
        help="who flags: the learned combiner (default) or the hand-set rules alone",
    )
    g.add_argument(
        "--combiner-flag",
        type=float,
        metavar="PROB",
        default=DetectConfig.combiner_flag,
        help="with the combiner deciding: flag an account whose estimate reaches this at "
        "--flag-ticks linking ticks (frozen on randomised worlds for the default ticks; "
        "README, Robustness, gives the trade-offs of other lines)",
    )
    g.add_argument(
        "--combiner-review",
        type=float,
        metavar="PROB",
        default=DetectConfig.combiner_review,
        help="with the combiner deciding: list an unflagged account whose estimate reaches "
        "this for review",
    )
    g.add_argument(
        "--flag-ticks",
        type=int,
        metavar="K",
        default=DetectConfig.combiner_flag_ticks,
        help="with the combiner deciding: flag or list an account only once its estimate has "
        "reached the line at K linking ticks (--cluster-every-hours apart); a strong match "
        "with a peer's indicators counts as all K",
    )
    g.add_argument(
        "--review-threshold",
        type=float,
        metavar="SCORE",
        default=DetectConfig.review_threshold,
        help="with the rules deciding: list unflagged accounts whose own score reaches this "
        "for review",
    )
    g.add_argument(
        "--allowlist",
        type=Path,
        metavar="FILE",
        help="dismissals written by the console (HOME/allowlist.jsonl, there from its first "
        "start): an account dismissed for the same evidence is not flagged again while the "
        "entry lives; a missing file is an error, not an empty list",
    )


def _finding_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("findings")
    g.add_argument(
        "--fingerprint-key",
        type=Path,
        metavar="FILE",
        help="HMAC key (16+ bytes) for the template fingerprints in findings; without it "
        "findings carry none",
    )
    g.add_argument(
        "--responses",
        metavar="STATE",
        help="the gateway's verdict store (a file path or redis://HOST:PORT/DB): findings "
        "carry the rung of the response ladder in force for each account",
    )


def _peer_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("a peer's indicators")
    g.add_argument(
        "--indicators",
        type=Path,
        default=None,
        metavar="BUNDLE",
        help="a peer's STIX bundle: matching its indicators counts as evidence (needs --key)",
    )
    g.add_argument(
        "--key", type=Path, default=None, metavar="FILE", help="the sharing community's key"
    )


def _engine_choice_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("engine")
    g.add_argument(
        "--engine",
        choices=sorted(ENGINES),
        default="duckdb",
        help="where the row-heavy stages run: embedded DuckDB, or Apache Spark",
    )
    g.add_argument(
        "--spark-master",
        default=None,
        metavar="URL",
        help="with --engine spark: local[N], spark://HOST:PORT, yarn, k8s://... "
        "(default: local[2])",
    )
    g.add_argument(
        "--spark-conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="with --engine spark: a Spark setting, as spark-submit's --conf (repeatable)",
    )


def _register_evaluate(subparsers: Subparsers) -> None:
    e = add_command(
        subparsers,
        "evaluate",
        summary="score detection results against labels (simulated traffic)",
        description="Compare a detect output folder with a labels table (from 'distillguard "
        "simulate'): recall and precision of the flags, false-positive rates per benign "
        "population, each campaign's recall, leakage (its exchanges served before its first "
        "flag) and time to detect, and the review tier's rates. Prints the metrics and writes "
        "DIR/metrics.json and DIR/metrics.md.",
        examples=[
            (
                "after simulate and detect",
                "distillguard evaluate detections --labels traffic/labels.parquet",
            ),
            (
                "one figure, for a script",
                "distillguard evaluate detections --labels traffic --json | jq .recall",
            ),
        ],
    )
    e.add_argument(
        "dir", type=Path, metavar="DIR", help="a folder written by 'distillguard detect'"
    )
    e.add_argument(
        "--labels",
        required=True,
        type=Path,
        metavar="PATH",
        help="the labels table (Parquet or JSONL), or the simulate folder holding it "
        "(labels.parquet, labels.jsonl.gz or labels.jsonl, as simulate --format wrote it)",
    )
    add_json_flag(e, "the metrics")
    e.set_defaults(run=run_evaluate)


# Detect settings as the options that set them, for the errors a user reads.
OPTION_OF_SETTING = {
    "window_hours": "--window-hours",
    "cluster_every_hours": "--cluster-every-hours",
    "run_windows": "--run-windows",
    "review_threshold": "--review-threshold",
    "combiner_flag": "--combiner-flag",
    "combiner_review": "--combiner-review",
    "combiner_flag_ticks": "--flag-ticks",
}


def detect_config(args: argparse.Namespace) -> DetectConfig:
    """The settings the options give; a bad value is said with its option's name."""
    settings = {
        name: getattr(args, option[2:].replace("-", "_"))
        for name, option in OPTION_OF_SETTING.items()
    }
    try:
        return DetectConfig(**settings, decide_by=args.decide_by, seed=args.seed)
    except ConfigError as exc:
        words = "|".join(OPTION_OF_SETTING)
        named = re.sub(rf"\b({words})\b", lambda m: OPTION_OF_SETTING[m[1]], str(exc))
        raise ConfigError(named) from None


def run_detect(args: argparse.Namespace) -> int:
    config = detect_config(args)
    boost = peer_boost(args.indicators, args.key)
    engine = get_engine(args.engine, _engine_options(args))
    try:
        summary = detect_with_bars(
            lake_or_paths(args.paths),
            args.out,
            args.accounts,
            config,
            findings_options=_findings_options(args),
            allowlist=load_allowlist(args.allowlist) if args.allowlist else None,
            engine=engine,
            boost=boost,
        )
    finally:
        engine.close()
    if args.json:
        print_json(detect_json(summary))
    else:
        print_detect(summary, stdout_console())
    return 0


def lake_or_paths(given: list[str]) -> list[Path] | RemoteLake:
    """Local paths, or the one URI of a lake (any other mix is a one-line error)."""
    uris = [g for g in given if is_uri(g)]
    if not uris:
        return [Path(g) for g in given]
    if len(given) > 1:
        raise UserError(f"a lake URI must be the only PATH, got {len(given)} paths")
    return RemoteLake(uris[0])


def _engine_options(args: argparse.Namespace) -> dict[str, str]:
    """--spark-master and every --spark-conf KEY=VALUE, as the engine's options; refused
    without --engine spark, where they would be ignored without a word."""
    if args.engine != "spark" and (args.spark_master is not None or args.spark_conf):
        raise UserError("--spark-master and --spark-conf need --engine spark")
    options = {"master": args.spark_master or "local[2]"}
    for item in args.spark_conf:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--spark-conf wants KEY=VALUE, got {item!r}")
        options[key.strip()] = value
    return options


def _findings_options(args: argparse.Namespace) -> FindingsOptions:
    key = None if args.fingerprint_key is None else read_key(args.fingerprint_key)
    responses = gateway_responses(args.responses) if args.responses else {}
    return FindingsOptions(previous=args.previous, fingerprint_key=key, responses=responses)


def gateway_responses(state: str) -> dict[str, GatewayAction]:
    """The rung in force for each account in a verdict store, as findings carry it."""
    store = open_store(state, existing=True)
    try:
        return {
            v.subject: GatewayAction(v.action, v.created, v.source)
            for v in store.list()
            if v.kind == "account"
        }
    finally:
        store.close()


def detect_with_bars(
    paths: list[Path] | RemoteLake,
    out: Path,
    accounts: list[Path],
    config: DetectConfig | None = None,
    **options: Any,
) -> DetectSummary:
    """`detect`, with a bar for the signals (exchanges) and one for the replay's ticks."""
    with progress_bars() as bars:
        signals = bars.add_task("signals (exchanges)", total=None)
        ticks = bars.add_task("replay (linking ticks)", total=None)
        return detect(
            paths,
            out,
            accounts,
            config,
            progress=lambda rows: bars.advance(signals, rows),
            on_tick=lambda done, total: bars.update(ticks, completed=done, total=total),
            **options,
        )


def detect_json(summary: DetectSummary) -> dict[str, object]:
    """The end-of-run summary for scripts: counts, and the flagged clusters without members
    (those are in DIR/clusters.csv and DIR/accounts.csv)."""
    clusters = sorted((c for c in summary.clusters if c.flagged), key=lambda c: -c.score)
    return {
        "out": str(summary.out),
        "exchanges": summary.exchanges,
        "accounts": len(summary.accounts),
        "flagged_accounts": sum(a.flagged for a in summary.accounts),
        "review_accounts": sum(a.review for a in summary.accounts),
        "flagged_clusters": [
            {
                "cluster_id": c.cluster_id,
                "accounts": len(c.accounts),
                "score": c.score,
                "first_flagged_at": _iso(c.first_flagged_at),
                "reasons": c.reasons,
            }
            for c in clusters
        ],
        "findings": summary.findings,
        "accounts_table": summary.accounts_table,
        "set_aside": summary.set_aside or None,
        "seconds": summary.seconds,
    }


def _iso(t: datetime | None) -> str | None:
    """ISO 8601 with its offset, as scripts parse it (str() would put a space for the T)."""
    return t.isoformat() if t is not None else None


def peer_boost(bundle: Path | None, key: Path | None) -> PeerBoost | None:
    """The evidence of a peer's indicators, when asked for (off by default)."""
    if bundle is None:
        if key is not None:
            raise UserError("--key is only used with --indicators")
        return None
    if key is None:
        raise UserError("--indicators needs --key FILE, the community key it was made with")
    return PeerBoost.from_files(bundle, keys.load(key))


def print_detect(summary: DetectSummary, console: Console) -> None:
    console.print(summary.line())
    rows = [
        (
            c.cluster_id,
            str(len(c.accounts)),
            f"{c.score:.2f}",
            c.first_flagged_at.strftime("%Y-%m-%d %H:%M") if c.first_flagged_at else "",
            c.reasons,
        )
        for c in sorted((c for c in summary.clusters if c.flagged), key=lambda c: -c.score)[:10]
    ]
    columns = ("cluster", "accounts", "score", "first flagged (UTC)", "reasons")
    title = "flagged clusters (top 10; full reasons in clusters.csv)"
    if rows:
        console.print(fitted_table(title, columns, rows, wide="reasons", width=console.width))
    else:  # an empty table reads like a failed render
        console.print("no cluster flagged (flagged accounts, if any, are in accounts.csv)")
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in summary.seconds.items())
    console.print(f"[dim]{timing}[/dim]")
    console.print(f"report: {summary.out / 'report.html'}")


def run_evaluate(args: argparse.Namespace) -> int:
    with progress("evaluating"):
        metrics = evaluate(args.dir, args.labels)
        write_metrics(metrics, args.dir)
    if args.json:
        print(metrics.to_json())
        return 0
    print(markdown(metrics))
    print(f"written: {args.dir / 'metrics.json'}, {args.dir / 'metrics.md'}")
    return 0
