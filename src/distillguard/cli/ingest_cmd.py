"""`distillguard ingest` and `distillguard lake`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from rich.console import Console

from distillguard.cli.common import (
    Subparsers,
    add_command,
    add_json_flag,
    fitted_table,
    local_path,
    out_path,
    print_json,
    progress,
    stdout_console,
)
from distillguard.cli.time_window import add_time_window, time_window
from distillguard.errors import UserError
from distillguard.ingest import IngestSummary, Lake, ingest
from distillguard.ingest.adapters import AUTO, adapter_names, load_mapping
from distillguard.ingest.damaged import set_aside_text
from distillguard.ingest.inputs import expand_inputs
from distillguard.ingest.outcome import UnreadableFilesError
from distillguard.ingest.pipeline import WRITER_LOCK
from distillguard.ingest.quarantine import clear_quarantine
from distillguard.ingest.summary import summarize_lake
from distillguard.store.lock import RunLock


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "ingest",
        summary="read API logs into a Parquet lake",
        description="Read request logs into a lake: Parquet partitioned by day, one row per "
        "exchange (exchange-log v1). Files may be JSONL (also .gz) or Parquet, in "
        "exchange-log v1 or a known log shape, recognised from its first records. Rows that "
        "fail validation go to LAKE/quarantine.jsonl with the reason, and are counted; "
        "request ids already in the lake are skipped, so ingesting twice is safe.",
        examples=[
            (
                "a day of logs, with the accounts table",
                "distillguard ingest logs/2026-02-02.jsonl.gz --accounts accounts.jsonl --out lake",
            ),
            (
                "gateway payloads in a folder, forcing the adapter",
                "distillguard ingest gateway/ --format litellm --out lake",
            ),
        ],
    )
    p.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="log files, or folders of them (a folder 'simulate' wrote: its log, with its "
        "accounts table as --accounts; its labels are never read)",
    )
    p.add_argument(
        "--accounts",
        action="append",
        type=Path,
        default=[],
        metavar="PATH",
        help="an accounts table (JSONL or Parquet; repeat for several): sign-up, tier, payment",
    )
    p.add_argument(
        "--out",
        required=True,
        type=out_path,
        metavar="LAKE",
        help="the lake folder to create or add to",
    )
    p.add_argument(
        "--format",
        default=AUTO,
        metavar="NAME",
        help=f"the log shape: {AUTO} (what most of the first 20 records are) or one of: "
        f"{', '.join(n for n in adapter_names() if n != AUTO)}",
    )
    p.add_argument(
        "--mapping",
        type=Path,
        metavar="FILE",
        help="a YAML field mapping, for logs whose fields have other names",
    )
    add_time_window(p)
    add_json_flag(p, "the run's counts")
    p.set_defaults(run=run_ingest)


def run_ingest(args: argparse.Namespace) -> int:
    mapping = load_mapping(args.mapping) if args.mapping else None
    found = expand_inputs(args.paths)
    if not (found.files or found.accounts or args.accounts):  # else an empty "lake" exit 0
        skipped = f" (not read: {'; '.join(found.skipped)})" if found.skipped else ""
        raise UserError(f"no log file in {', '.join(map(str, args.paths))}{skipped}")
    with progress("rows read") as advance:
        try:
            summary = ingest(
                args.paths,
                args.out,
                args.accounts,
                fmt=args.format,
                mapping=mapping,
                window=time_window(args),
                progress=advance,
            )
        except UnreadableFilesError as exc:  # the others were committed: scripts see what
            if args.json:
                print_json(exc.summary)
            raise
    if args.json:
        print_json(summary)
    else:
        print(summary.line())
        for note in summary.notes():
            print(note, file=sys.stderr)
        if not (summary.read or summary.accounts_read):  # an empty log is valid, and odd
            print("ingest: note: the input held no rows; the lake is as it was", file=sys.stderr)
    _refuse_all_quarantined(summary, args.format)
    return 0


def _refuse_all_quarantined(summary: IngestSummary, fmt: str) -> None:
    """Exit 2 when rows were read and none was an exchange: a wrong --format or the wrong
    file reads as a quiet success otherwise. The rows stay in the quarantine, with why."""
    if summary.accounts_read and summary.accounts_quarantined == summary.accounts_read:
        raise UserError(
            f"none of the {summary.accounts_read:,} rows of the --accounts table(s) was kept: "
            f"all are in {Lake(summary.lake).quarantine_path}, each with its reason (not an "
            "accounts table?)"
        )
    if summary.read and summary.quarantined == summary.read:
        shape = "" if fmt == AUTO else f" as --format {fmt}"
        first = f"the first: {summary.first_reason}; " if summary.first_reason else ""
        raise UserError(
            f"none of the {summary.read:,} rows read{shape} was kept: all are in "
            f"{Lake(summary.lake).quarantine_path}, each with its reason ({first}the wrong "
            "file or format, or a time window that leaves them out?)"
        )


def register_lake(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "lake",
        summary="summarise what a lake holds",
        description="Count what a lake holds: exchanges, accounts, days covered, rows "
        "quarantined, the busiest models and access paths.",
        examples=[
            ("what the last ingest left", "distillguard lake ./lake"),
            ("the exchange count, for a script", "distillguard lake ./lake --json | jq .exchanges"),
        ],
    )
    p.add_argument(
        "lake",
        type=local_path,
        metavar="LAKE",
        help="a folder made by 'distillguard ingest' (or its file:/// URI)",
    )
    p.add_argument(
        "--clear-quarantine",
        action="store_true",
        help="delete the lake's quarantine.jsonl first (each entry is the only copy of its "
        "row: do so once they are fixed and ingested again, or not wanted)",
    )
    add_json_flag(p, "the counts (top models and access paths whole)")
    p.set_defaults(run=run_lake)


def run_lake(args: argparse.Namespace) -> int:
    lake = Lake(args.lake)
    if lake.root.is_dir() and not _looks_like_lake(lake):
        raise UserError(
            f"{lake.root} is not a lake (no exchanges/, accounts/ or quarantine.jsonl): "
            "make one with 'distillguard ingest'"
        )
    if args.clear_quarantine:
        _clear_quarantine(lake)
    if args.json:
        summary = asdict(summarize_lake(lake))
        print_json({"lake": lake.root, **summary, "set_aside": set_aside_text(lake) or None})
    else:
        print_lake(lake, stdout_console())
    return 0


def _clear_quarantine(lake: Lake) -> None:
    """Under the lake's writer lock: refused while an ingest or watch writes. The lock
    would make its folder, so a path with no lake is refused first."""
    if not lake.root.is_dir():
        raise UserError(f"no lake at {lake.root}")
    lock = RunLock(lake.staging_dir / WRITER_LOCK, f"lake {lake.root}")
    try:
        entries, size = clear_quarantine(lake.quarantine_path)
    finally:
        lock.release()
    said = f"{entries:,} quarantined row(s), {size / 1e6:,.1f} MB" if entries else "nothing"
    print(f"lake {lake.root}: cleared {said} from {lake.quarantine_path}", file=sys.stderr)


def _looks_like_lake(lake: Lake) -> bool:
    """Something an ingest wrote is there (an ingest of nothing leaves only its staging)."""
    made = (lake.exchanges_dir, lake.accounts_path, lake.quarantine_path, lake.staging_dir)
    return any(path.exists() for path in made)


def _days(days: int, first: str | None, last: str | None) -> str:
    """'3 (2026-02-02 00:00 .. 2026-02-04 23:59 UTC)', or the count alone with no traffic."""
    if first is None or last is None:
        return f"{days}"
    return f"{days} ({first[:16].replace('T', ' ')} .. {last[:16].replace('T', ' ')} UTC)"


def print_lake(lake: Lake, out: Console) -> None:
    s = summarize_lake(lake)
    rows = [
        ("exchanges", f"{s.exchanges:,}"),
        ("accounts with traffic", f"{s.accounts_active:,}"),
        ("accounts table", f"{s.accounts_table:,}"),
        ("days", _days(s.days, s.first_ts, s.last_ts)),
        ("quarantined rows", f"{s.quarantined:,}"),
        ("top models", ", ".join(f"{k} ({n:,})" for k, n in s.top_models)),
        ("access paths", ", ".join(f"{k} ({n:,})" for k, n in s.top_access_paths)),
    ]
    title = f"lake {lake.root}"
    out.print(
        fitted_table(
            title, ("what", "count"), rows, wide="count", width=out.width, show_header=False
        )
    )
    aside = set_aside_text(lake)
    if aside:
        out.print(f"warning: {aside}")
