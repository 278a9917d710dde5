"""`distillguard detect`'s options, in the groups its help lists them under."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from distillguard.cli.common import Subparsers, add_command, add_json_flag, out_path
from distillguard.detect.config import DECIDERS, DetectConfig
from distillguard.engine.base import ENGINES


def register_detect(subparsers: Subparsers, run: Callable[[argparse.Namespace], int]) -> None:
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
    p.set_defaults(run=run)


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
        "--flag-ticks linking ticks where it sits in a linked group (frozen on randomised "
        "worlds for the default ticks; README, Robustness, gives the trade-offs of other "
        "lines)",
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
        "--combiner-flag-lone",
        type=float,
        metavar="PROB",
        default=DetectConfig.combiner_flag_lone,
        help="with the combiner deciding: also flag an account whose estimate reaches this at "
        "--flag-ticks ticks of any kind, linked or not (a campaign needs many accounts, a "
        "heavy customer has one); one linked to none over --combiner-flag but under this is "
        "listed for review (at or under --combiner-flag: every tick counts alike; above 1: no "
        "lone account is flagged)",
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
