"""`distillguard verdicts publish|set|clear|list`: what the gateway does to whom."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from distillguard.cli.common import Subparsers, add_command
from distillguard.detect.allowlist import load_allowlist
from distillguard.errors import UserError
from distillguard.verdicts.members import clear_cluster, members_of
from distillguard.verdicts.model import (
    ACTIONS,
    SOURCES,
    SubjectKind,
    Verdict,
    now,
    parse_ttl,
    subject_key,
)
from distillguard.verdicts.policy import load_policy
from distillguard.verdicts.publish import publish
from distillguard.verdicts.store import open_store

STATE_HELP = (
    "the verdict store: memory, a JSON-lines file path, or redis://HOST:PORT/DB (list and "
    "clear want a file that exists: a mistyped path is an error, not an empty store)"
)
REASON_WIDTH = 60  # the table's reason column; --json prints reasons whole


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
        "Redis when several gateways share them, or memory for tests. An analyst's verdict "
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
    _register_set(sub)
    _register_clear(sub)
    _register_list(sub)


def _add_state(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", default="verdicts.jsonl", metavar="STATE", help=STATE_HELP)


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
        help="a policy YAML file (default: the built-in policy, "
        "src/distillguard/verdicts/default_policy.yaml)",
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
    _add_state(pub)
    pub.set_defaults(run=run_publish)


def _register_set(sub: Subparsers) -> None:
    put = add_command(
        sub,
        "set",
        summary="an analyst's verdict on an account or cluster",
        description="Record an analyst's verdict on one account (or, with --cluster, a "
        "cluster). It outranks any detector verdict on the same subject, so '--action "
        "monitor' overrides a false positive; running gateways apply it on their next "
        "request. A cluster's verdict reaches the accounts whose own verdicts name the "
        "cluster ('verdicts publish' writes them for a flagged cluster's members): it says "
        "how many, and warns when there are none.",
        examples=[
            (
                "degrade an account for a day",
                'distillguard verdicts set acct_42 --action degrade --reason "case 118" '
                "--ttl 24h --state verdicts.jsonl",
            ),
            (
                "block a whole cluster",
                "distillguard verdicts set c-3f9a2b7c1d --cluster --action block_cluster "
                '--reason "confirmed campaign" --state verdicts.jsonl',
            ),
        ],
    )
    put.add_argument("subject", metavar="ACCOUNT", help="the account id (or cluster id)")
    put.add_argument(
        "--action",
        required=True,
        choices=ACTIONS,
        metavar="ACTION",
        help=f"the rung of the response ladder, mildest first: {', '.join(ACTIONS)}",
    )
    put.add_argument(
        "--reason", required=True, metavar="TEXT", help="why, kept with the verdict for audit"
    )
    put.add_argument(
        "--ttl",
        metavar="DURATION",
        help="how long it applies, e.g. 90m, 24h, 7d (default: until cleared)",
    )
    put.add_argument("--cluster", action="store_true", help="ACCOUNT names a cluster")
    _add_state(put)
    put.set_defaults(run=run_set)


def _register_clear(sub: Subparsers) -> None:
    clear = add_command(
        sub,
        "clear",
        summary="remove an account's verdicts",
        description="Remove the verdicts on one account (or, with --cluster, a cluster), "
        "from every source or only from one. A cluster's members' detector verdicts go "
        "with it (unless --source analyst), so the gateway serves them again. The removal "
        "is kept in the store's audit log. Prints how many were cleared.",
        examples=[
            ("lift every verdict on an account", "distillguard verdicts clear acct_42"),
            (
                "drop only the analyst's, leaving the detector's in force",
                "distillguard verdicts clear acct_42 --source analyst --state verdicts.jsonl",
            ),
        ],
    )
    clear.add_argument("subject", metavar="ACCOUNT", help="the account id (or cluster id)")
    clear.add_argument(
        "--source",
        choices=SOURCES,
        help="clear only this source's verdicts (default: every source's)",
    )
    clear.add_argument("--cluster", action="store_true", help="ACCOUNT names a cluster")
    _add_state(clear)
    clear.set_defaults(run=run_clear)


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
    _add_state(ls)
    ls.add_argument(
        "--json",
        action="store_true",
        help="print each verdict whole as one JSON line, instead of the table",
    )
    ls.set_defaults(run=run_list)


def run_publish(args: argparse.Namespace) -> int:
    dismissed = load_allowlist(args.allowlist) if args.allowlist is not None else None
    policy = load_policy(args.policy)
    store = open_store(args.state)
    try:
        summary = publish(args.detect_out, store, policy, args.lake, dismissed)
    finally:
        store.close()
    print(summary.line())
    return 0


def run_set(args: argparse.Namespace) -> int:
    ttl = parse_ttl(args.ttl) if args.ttl else None
    if not args.reason.strip():
        raise UserError("--reason is empty: a verdict's reason is kept for audit")
    kind: SubjectKind = "cluster" if args.cluster else "account"
    verdict = Verdict(args.subject, args.action, args.reason, "analyst", now(), kind=kind)
    store = open_store(args.state)
    try:
        store.set(verdict.with_expiry(ttl))
        members = members_of(store, args.subject) if args.cluster else []
    finally:
        store.close()
    reach = f", over the {len(members)} member(s) the store knows" if members else ""
    print(f"verdicts: {kind} {args.subject} -> {args.action} (analyst){reach}")
    if args.cluster and not members:
        print(
            f"verdicts: warning: no account's verdict names cluster {args.subject}, so this "
            "verdict reaches nobody yet: the gateway learns a cluster's members from their "
            "own verdicts (verdicts publish writes them for a flagged cluster); set its "
            "accounts one by one to act on them now",
            file=sys.stderr,
        )
    return 0


def run_clear(args: argparse.Namespace) -> int:
    store = open_store(args.state, existing=True)
    try:
        if args.cluster:
            print(clear_cluster(store, args.subject, args.source).line())
            return 0
        gone = store.clear(subject_key(args.subject), args.source)
    finally:
        store.close()
    print(f"verdicts: cleared {gone} verdict(s) of account {args.subject}")
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
    for column in ("subject", "action", "source", "expires", "reason", "evidence"):
        table.add_column(column)
    for v in verdicts:
        expires = v.expires.strftime("%Y-%m-%d %H:%M") if v.expires else "never"
        table.add_row(v.key, v.action, v.source, expires, _clipped(v.reason), v.evidence)
    Console().print(table)  # the terminal's width (80 when piped), long cells wrapped
    return 0


def _clipped(text: str, width: int = REASON_WIDTH) -> str:
    """The text cut to `width` characters, with an ellipsis when something was cut."""
    return text if len(text) <= width else text[: width - 1] + "…"
