"""`distillguard verdicts publish|set|clear|list`: what the gateway does to whom."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC
from pathlib import Path

from rich.console import Console
from rich.table import Table

from distillguard.cli.common import Subparsers, add_command
from distillguard.cli.verdicts_set_cmd import add_state, lasting_store, register_clear, register_set
from distillguard.detect.allowlist import load_allowlist
from distillguard.errors import UserError
from distillguard.ingest.lake import Lake
from distillguard.verdicts.policy import default_policy_text, load_policy
from distillguard.verdicts.publish import check_detect_out, publish
from distillguard.verdicts.store import open_store

REASON_WIDTH = 60  # the table's reason column; --json prints reasons whole
PIPED_WIDTH = 200  # the table's width piped, without COLUMNS: rows kept whole


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "verdicts",
        summary="publish, set, clear and list verdicts",
        description="A verdict says what the gateway does to an account or cluster: one rung "
        "of the response ladder (monitor, throttle, reverify, degrade, block_account, "
        "block_cluster), with a reason, a source (detector or analyst) and an optional "
        "expiry. Verdicts live in a store (--state) that running gateways read on every "
        "request: a JSON-lines file (an append-only log, which is also the audit log), "
        "or Redis when several gateways share them. An analyst's verdict "
        "outranks the detector's, and expired verdicts stop applying.",
        examples=[
            (
                "verdicts from a detect run, through the default policy",
                "distillguard verdicts publish detect-out --state verdicts.jsonl",
            ),
            ("what is in force now", "distillguard verdicts list --state verdicts.jsonl"),
        ],
    )
    sub = p.add_subparsers(
        dest="verdicts_command",
        required=True,
        parser_class=type(p),
        metavar="SUBCOMMAND",
        title="subcommands",
    )
    _register_publish(sub)
    register_set(sub)
    register_clear(sub)
    _register_list(sub)
    _register_policy(sub)


def _register_publish(sub: Subparsers) -> None:
    pub = add_command(
        sub,
        "publish",
        summary="turn a detect output into verdicts via the policy",
        description="Read a detect output folder (accounts.parquet and clusters.parquet) and "
        "write a detector verdict for each flagged cluster (and each of its members), each "
        "other flagged account and each account listed for review, the action chosen by the "
        "policy's publish rules (kind, tier, score and, with a lake, sign-up tier). A subject "
        "with an analyst's verdict is left unchanged, and so is one whose detector verdict "
        "has the same action (and, for a member of a flagged cluster, the same cluster) and "
        "over half its life left; else it is set anew, "
        "so a verdict lapses (after the policy's ttl, 7 days by default) only once runs stop "
        "flagging it. Prints how many were published (and renewed), by action.",
        examples=[
            (
                "publish with the built-in policy",
                "distillguard verdicts publish detect-out --state verdicts.jsonl",
            ),
            (
                "your own policy, with sign-up tiers from the lake",
                "distillguard verdicts publish detect-out --policy policy.yaml --lake lake "
                "--state redis://127.0.0.1:6379/0",
            ),
            (
                "keep the console's dismissals lifted",
                "distillguard verdicts publish detect-out --state state/verdicts.jsonl "
                "--allowlist state/console/allowlist.jsonl",
            ),
        ],
    )
    pub.add_argument(
        "detect_out",
        type=Path,
        metavar="DIR",
        help="a folder written by 'distillguard detect'",
    )
    pub.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="a policy YAML file (default: the built-in policy, which 'distillguard "
        "verdicts policy' prints)",
    )
    pub.add_argument(
        "--lake",
        type=Path,
        metavar="LAKE",
        help="the lake detect read, for the accounts' sign-up tiers (default: DIR/lake "
        "when there is one)",
    )
    pub.add_argument(
        "--allowlist",
        type=Path,
        metavar="FILE",
        help="the console's dismissals (HOME/allowlist.jsonl): an account a live dismissal "
        "covers (all the evidence the run flags it for) gets no verdict, as with 'detect "
        "--allowlist'; without it a run made before a dismissal sets its verdict again",
    )
    add_state(pub)
    pub.set_defaults(run=run_publish)


def _register_list(sub: Subparsers) -> None:
    ls = add_command(
        sub,
        "list",
        summary="the verdicts in force",
        description="Print a table with the verdict that applies now to each subject (an "
        "analyst's outranks the detector's; expired ones are left out): subject, action, "
        "source, expiry, reason and the evidence it rests on. Long reasons end in an "
        "ellipsis; --json prints each verdict whole, one JSON object a line.",
        examples=[
            ("the file store", "distillguard verdicts list --state verdicts.jsonl"),
            (
                "whole verdicts, for jq or a script",
                "distillguard verdicts list --state verdicts.jsonl --json",
            ),
            (
                "verdicts shared in Redis",
                "distillguard verdicts list --state redis://127.0.0.1:6379/0",
            ),
        ],
    )
    add_state(ls)
    ls.add_argument(
        "--json",
        action="store_true",
        help="print each verdict whole as one JSON line, instead of the table",
    )
    ls.set_defaults(run=run_list)


def _register_policy(sub: Subparsers) -> None:
    pol = add_command(
        sub,
        "policy",
        summary="print the built-in response policy, to copy and edit",
        description="Print the built-in policy YAML (the rules from detect output to "
        "verdicts, the request evidence, each action's settings, monitor or enforce, fail "
        "open or closed) with its comments. Save it, edit it and pass it with --policy to "
        "'verdicts publish', 'watch' and 'gateway': an installed copy has no repository "
        "to find it in.",
        examples=[
            ("a copy to edit", "distillguard verdicts policy > policy.yaml"),
            (
                "then use it",
                "distillguard gateway --upstream https://api.example.com --policy policy.yaml",
            ),
        ],
    )
    pol.set_defaults(run=run_policy)


def run_policy(args: argparse.Namespace) -> int:
    sys.stdout.write(default_policy_text())
    return 0


def run_publish(args: argparse.Namespace) -> int:
    dismissed = load_allowlist(args.allowlist) if args.allowlist is not None else None
    policy = load_policy(args.policy)
    if args.lake is not None and not Lake(args.lake).is_one():  # else tiers dropped, unsaid
        raise UserError(f"--lake {args.lake} is not a lake (no day partitions or accounts table)")
    state = lasting_store(args.state)
    check_detect_out(args.detect_out)  # before the store: a new one's file is made
    store = open_store(state)
    try:
        summary = publish(args.detect_out, store, policy, args.lake, dismissed)
    finally:
        store.close()
    print(summary.line())
    return 0


def run_list(args: argparse.Namespace) -> int:
    store = open_store(args.state, existing=True)
    try:
        verdicts = store.list()
    finally:
        store.close()
    if args.json:
        for v in verdicts:
            print(json.dumps(v.to_json(), sort_keys=True))
        return 0
    table = Table(title=f"{len(verdicts)} verdict(s) in force")
    # Ids are never cut (a cut id names nobody): they fold onto a second line where the
    # terminal is narrow; reasons and evidence wrap.
    table.add_column("subject", overflow="fold", min_width=16)
    table.add_column("action", overflow="fold")
    table.add_column("source", no_wrap=True)
    table.add_column("expires (UTC)", min_width=5)  # as --json and the console give them
    table.add_column("reason", overflow="fold", min_width=6)
    table.add_column("evidence", overflow="fold", min_width=6)
    for v in verdicts:
        expires = v.expires.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if v.expires else "never"
        table.add_row(v.key, v.action, v.source, expires, _clipped(v.reason), v.evidence)
    Console(width=_width()).print(table)
    return 0


def _width() -> int | None:
    """A terminal's own width; piped to a file or grep, wide enough to keep rows whole,
    unless COLUMNS says how wide (a pager, a report of fixed width)."""
    if sys.stdout.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH


def _clipped(text: str, width: int = REASON_WIDTH) -> str:
    """The text cut to `width` characters, with an ellipsis when something was cut."""
    return text if len(text) <= width else text[: width - 1] + "…"
