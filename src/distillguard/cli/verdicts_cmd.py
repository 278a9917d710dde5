"""`distillguard verdicts publish|set|clear|list`: what the gateway does to whom."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from distillguard.cli.common import Subparsers
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

STATE_HELP = "memory, a file path (default verdicts.jsonl) or redis://HOST:PORT/DB"


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("verdicts", help="publish, set, clear and list verdicts")
    sub = p.add_subparsers(dest="verdicts_command", required=True, parser_class=type(p))
    pub = sub.add_parser("publish", help="turn a detect output into verdicts via the policy")
    pub.add_argument("detect_out", type=Path, metavar="DETECT_OUT")
    pub.add_argument("--policy", type=Path, metavar="FILE")
    pub.add_argument("--lake", type=Path, metavar="LAKE", help="for sign-up tiers (optional)")
    pub.set_defaults(run=run_publish)
    put = sub.add_parser("set", help="an analyst's verdict on an account or cluster")
    put.add_argument("subject", metavar="ACCOUNT")
    put.add_argument("--action", required=True, choices=ACTIONS)
    put.add_argument("--reason", required=True)
    put.add_argument("--ttl", metavar="DURATION", help="e.g. 90m, 24h, 7d (default: none)")
    put.add_argument("--cluster", action="store_true", help="ACCOUNT names a cluster")
    put.set_defaults(run=run_set)
    clear = sub.add_parser("clear", help="remove an account's verdicts")
    clear.add_argument("subject", metavar="ACCOUNT")
    clear.add_argument("--source", choices=SOURCES, help="only this source's (default: all)")
    clear.add_argument("--cluster", action="store_true", help="ACCOUNT names a cluster")
    clear.set_defaults(run=run_clear)
    ls = sub.add_parser("list", help="the verdicts in force")
    ls.set_defaults(run=run_list)
    for command in (pub, put, clear, ls):
        command.add_argument("--state", default="verdicts.jsonl", help=STATE_HELP)


def run_publish(args: argparse.Namespace) -> int:
    store = open_store(args.state)
    try:
        summary = publish(args.detect_out, store, load_policy(args.policy), args.lake)
    finally:
        store.close()
    print(summary.line())
    return 0


def run_set(args: argparse.Namespace) -> int:
    ttl = parse_ttl(args.ttl) if args.ttl else None
    kind: SubjectKind = "cluster" if args.cluster else "account"
    verdict = Verdict(args.subject, args.action, args.reason, "analyst", now(), kind=kind)
    store = open_store(args.state)
    try:
        store.set(verdict.with_expiry(ttl))
    finally:
        store.close()
    print(f"verdicts: {kind} {args.subject} -> {args.action} (analyst)")
    return 0


def run_clear(args: argparse.Namespace) -> int:
    kind: SubjectKind = "cluster" if args.cluster else "account"
    store = open_store(args.state)
    try:
        gone = store.clear(subject_key(args.subject, kind), args.source)
    finally:
        store.close()
    print(f"verdicts: cleared {gone} verdict(s) of {kind} {args.subject}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    store = open_store(args.state)
    try:
        verdicts = store.list()
    finally:
        store.close()
    table = Table(title=f"{len(verdicts)} verdict(s) in force")
    for column in ("subject", "action", "source", "expires", "reason", "evidence"):
        table.add_column(column)
    for v in verdicts:
        expires = v.expires.strftime("%Y-%m-%d %H:%M") if v.expires else "never"
        table.add_row(v.key, v.action, v.source, expires, v.reason[:60], v.evidence)
    Console(width=160).print(table)
    return 0
