"""`distillguard verdicts set|clear`: an analyst's verdicts on an account or a cluster."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from distillguard.cli.common import Subparsers, add_command
from distillguard.errors import UserError
from distillguard.verdicts.members import (
    clear_cluster,
    cluster_accounts,
    link_members,
    members_of,
)
from distillguard.verdicts.model import (
    ACTIONS,
    SOURCES,
    SubjectKind,
    Verdict,
    now,
    parse_ttl,
    subject_key,
)
from distillguard.verdicts.store import open_store

STATE_HELP = (
    "the verdict store: a JSON-lines file path, or redis://HOST:PORT/DB (a new file, "
    "readable by its owner only, only in a folder that exists; list and clear want a file "
    "that exists: a mistyped path is an error, not an empty store)"
)


def lasting_store(state: str, writer: str = "") -> str:
    """STATE for a command that changes verdicts: `memory` (kept for the tests of servers)
    would report success and keep nothing once the command ends. `writer`, for a server
    that writes verdicts while it runs (watch, the console): a memory store is its own,
    so no gateway would ever read what it decides."""
    if state.strip().lower() != "memory":
        return state
    if writer:
        raise UserError(
            f"--state memory is this process's own: no gateway would read what {writer} "
            "decides; give the file or redis://HOST:PORT/DB that the gateway reads"
        )
    raise UserError(
        "--state memory keeps nothing after this command: give the file or "
        "redis://HOST:PORT/DB that the gateway reads"
    )


def checked_subject(text: str) -> str:
    """An ACCOUNT (or cluster) as typed: one with spaces around it or a control character
    in it names a subject no gateway sees, and an override on it silently does nothing."""
    if not text.strip():
        raise UserError("ACCOUNT is empty")
    if text != text.strip():
        raise UserError(f"ACCOUNT {text!r} has spaces around it: did you mean {text.strip()!r}?")
    if any(not c.isprintable() for c in text):
        raise UserError(f"ACCOUNT {text!r} holds a control character (a pasted newline?)")
    return text


def add_state(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", default="verdicts.jsonl", metavar="STATE", help=STATE_HELP)


def register_set(sub: Subparsers) -> None:
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
                "block a whole cluster, its accounts named by the run that found it",
                "distillguard verdicts set c-3f9a2b7c1d --cluster --action block_cluster "
                '--reason "confirmed campaign" --findings detect-out --state verdicts.jsonl',
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
    put.add_argument(
        "--findings",
        type=Path,
        metavar="DIR",
        help="with --cluster: the detect run that found the cluster; each of its accounts "
        "gets this verdict too, naming the cluster (clear --cluster lifts them), so a "
        "cluster no detector verdict names is reached",
    )
    add_state(put)
    put.set_defaults(run=run_set)


def register_clear(sub: Subparsers) -> None:
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
    add_state(clear)
    clear.set_defaults(run=run_clear)


def run_set(args: argparse.Namespace) -> int:
    subject = checked_subject(args.subject)
    ttl = parse_ttl(args.ttl) if args.ttl else None
    if not args.reason.strip():
        raise UserError("--reason is empty: a verdict's reason is kept for audit")
    kind: SubjectKind = "cluster" if args.cluster else "account"
    verdict = Verdict(subject, args.action, args.reason, "analyst", now(), kind=kind)
    if args.findings is not None and not args.cluster:
        raise UserError("--findings goes with --cluster: it names the cluster's accounts")
    accounts = cluster_accounts(args.findings, subject) if args.findings else []
    store = open_store(lasting_store(args.state))
    try:
        known = args.cluster or store.get(subject_key(subject)) is not None
        store.set(verdict.with_expiry(ttl))
        link_members(store, verdict.with_expiry(ttl), accounts)
        members = members_of(store, subject) if args.cluster else []
    finally:
        store.close()
    reach = f", over the {len(members)} member(s) the store knows" if members else ""
    print(f"verdicts: {kind} {subject} -> {args.action} (analyst){reach}")
    if not known:
        print(
            f"verdicts: note: the store held no verdict on account {subject} before this "
            "one (a typo? 'verdicts list' shows the accounts it knows)",
            file=sys.stderr,
        )
    if args.action == "block_cluster" and not args.cluster:
        print(
            f"verdicts: note: block_cluster on account {subject} blocks that account only "
            "(its refusals say cluster_blocked); to block its cluster's accounts, set the "
            "verdict on the cluster: verdicts set CLUSTER --cluster --findings DIR",
            file=sys.stderr,
        )
    if args.cluster and not members:
        print(
            f"verdicts: warning: no account's verdict names cluster {subject}, so this "
            "verdict reaches nobody yet: the gateway learns a cluster's members from their "
            "own verdicts (verdicts publish writes them for a flagged cluster); give "
            "--findings DIR, the detect run that found the cluster, to reach its accounts",
            file=sys.stderr,
        )
    return 0


def run_clear(args: argparse.Namespace) -> int:
    subject = checked_subject(args.subject)
    store = open_store(lasting_store(args.state), existing=True)
    try:
        if args.cluster:
            print(clear_cluster(store, subject, args.source).line())
            return 0
        gone = store.clear(subject_key(subject), args.source)
    finally:
        store.close()
    hint = " (the store holds none on it: a typo?)" if not gone else ""
    print(f"verdicts: cleared {gone} verdict(s) of account {subject}{hint}")
    return 0
