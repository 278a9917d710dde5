"""`distillguard watch`: the loop from the gateway's exchange log back into verdicts."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from distillguard.cli.common import Subparsers
from distillguard.errors import UserError
from distillguard.verdicts.policy import load_policy
from distillguard.verdicts.store import open_store
from distillguard.verdicts.watch import Watcher


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("watch", help="ingest new exchange logs, detect, publish verdicts")
    p.add_argument("lake", type=Path, metavar="LAKE")
    p.add_argument("--inbox", required=True, type=Path, metavar="DIR",
                   help="where gateways write exchange-log files (their --log-dir)")  # fmt: skip
    p.add_argument("--state", default="verdicts.jsonl", help="verdict store (see verdicts)")
    p.add_argument("--accounts", action="append", type=Path, default=[], metavar="PATH")
    p.add_argument("--policy", type=Path, metavar="FILE", help="default: the built-in policy")
    p.add_argument("--every", type=float, default=60.0, metavar="SECONDS", help="tick interval")
    p.add_argument("--ticks", type=int, metavar="N", help="stop after N ticks (default: never)")
    p.set_defaults(run=run_watch)


def run_watch(args: argparse.Namespace) -> int:
    if not args.inbox.is_dir():
        raise UserError(f"no such inbox directory: {args.inbox}")
    if args.every <= 0 or (args.ticks is not None and args.ticks < 1):
        raise UserError("--every must be positive and --ticks at least 1")
    store = open_store(args.state)
    watcher = Watcher(
        args.lake, args.inbox, store, load_policy(args.policy), accounts=args.accounts
    )
    done = 0
    try:
        while args.ticks is None or done < args.ticks:
            started = time.monotonic()
            summary = watcher.tick()
            print(summary.line() if summary else "watch: nothing new", flush=True)
            done += 1
            if args.ticks is None or done < args.ticks:
                time.sleep(max(0.0, args.every - (time.monotonic() - started)))
    finally:
        store.close()
    return 0
