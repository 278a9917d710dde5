"""`distillguard detect`: run it, and print or write what it found."""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from distillguard.cli.common import (
    Subparsers,
    fitted_table,
    print_json,
    progress_bars,
    stdout_console,
)
from distillguard.cli.detect_options import register_detect
from distillguard.detect.allowlist import load_allowlist
from distillguard.detect.config import DetectConfig
from distillguard.detect.run import detect
from distillguard.detect.summary import DetectSummary
from distillguard.engine.base import get_engine
from distillguard.errors import ConfigError, UserError
from distillguard.findings.collect import FindingsOptions
from distillguard.findings.fingerprints import read_key
from distillguard.findings.responses import GatewayAction
from distillguard.ingest.remote import RemoteLake, is_uri
from distillguard.sharing import keys
from distillguard.sharing.boost import PeerBoost
from distillguard.verdicts.store import open_store


def register(subparsers: Subparsers) -> None:
    register_detect(subparsers, run_detect)


# Detect settings as the options that set them, for the errors a user reads.
OPTION_OF_SETTING = {
    "window_hours": "--window-hours",
    "cluster_every_hours": "--cluster-every-hours",
    "run_windows": "--run-windows",
    "review_threshold": "--review-threshold",
    "combiner_flag": "--combiner-flag",
    "combiner_review": "--combiner-review",
    "combiner_flag_ticks": "--flag-ticks",
    "combiner_flag_lone": "--combiner-flag-lone",
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
        **_ingested(summary),
        "accounts_table": summary.accounts_table,
        "set_aside": summary.set_aside or None,
        "seconds": summary.seconds,
    }


def _ingested(summary: DetectSummary) -> dict[str, object]:
    """When detect read log files: the rows quarantined on the way into its lake, and
    where they are, as its closing line says."""
    ingested = summary.ingested
    if ingested is None:
        return {"quarantined": None, "quarantine": None}
    where = summary.out / "lake" / "quarantine.jsonl" if ingested.quarantined else None
    return {"quarantined": ingested.quarantined, "quarantine": where and str(where)}


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
