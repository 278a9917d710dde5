"""`distillguard watch`: the loop from the gateway's exchange log back into verdicts."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from distillguard.cli.common import Subparsers, add_command, positive_number, positive_whole
from distillguard.cli.failures import describe_os_error
from distillguard.cli.verdicts_set_cmd import lasting_store
from distillguard.detect.allowlist import load_allowlist
from distillguard.errors import UserError
from distillguard.verdicts.policy import load_policy
from distillguard.verdicts.store import StoreFileError, open_store, store_error
from distillguard.verdicts.watch import HOLD_TICKS, Watcher


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "watch",
        summary="ingest new exchange logs, detect, publish verdicts",
        description="Close the loop from the gateway back to verdicts. Every tick, ingest the "
        "completed exchange-log files that gateways wrote to --inbox (files still being "
        "written, *.partial, wait for the next tick) into LAKE, run detect over the whole "
        "lake (results in LAKE/watch-detect) and publish the verdicts through the policy "
        "to --state, where running gateways read them at once. Files already ingested are "
        "remembered in LAKE/watch-ingested.json with their size, time and how far they were "
        "read, so a restart carries on and a JSONL file that has grown is read from there, "
        "to its last complete line (a last line without its newline waits for a tick that "
        "finds the file unchanged); a grown gzip or Parquet file is read again whole, its "
        "rows already in the lake dropped. A tick with no new rows does nothing; one whose new "
        "rows were all quarantined or in the lake already runs no detect, and its line says "
        "which files the quarantined rows came from. Each tick costs the whole lake's detect, "
        "not the new data's. Prints one line per tick; runs until interrupted unless --ticks "
        "is given.",
        examples=[
            (
                "every minute, beside a gateway started with --log-dir exchanges/",
                "distillguard watch lake/ --inbox exchanges/ --state verdicts.jsonl "
                "--accounts accounts.jsonl",
            ),
            (
                "one round now, then stop (e.g. from cron)",
                "distillguard watch lake/ --inbox exchanges/ --ticks 1",
            ),
        ],
    )
    p.add_argument(
        "lake", type=Path, metavar="LAKE", help="the lake to ingest into and detect over"
    )
    p.add_argument("--inbox", required=True, type=Path, metavar="DIR",
                   help="where gateways write exchange-log files (their --log-dir)")  # fmt: skip
    p.add_argument(
        "--state",
        default="verdicts.jsonl",
        metavar="STATE",
        help="the verdict store the gateway reads: a JSON-lines file path, or redis://HOST:PORT/DB",
    )
    p.add_argument(
        "--accounts",
        action="append",
        type=Path,
        default=[],
        metavar="PATH",
        help="an accounts table (JSONL or Parquet; repeat for several) ingested with the logs",
    )
    p.add_argument(
        "--allowlist",
        type=Path,
        metavar="FILE",
        help="the console's dismissals (HOME/allowlist.jsonl), read again at every tick: a "
        "dismissed account is not flagged again for the same evidence, so its verdict is "
        "not published again",
    )
    p.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="a policy YAML file (default: the built-in policy, which 'distillguard "
        "verdicts policy' prints)",
    )
    p.add_argument(
        "--every",
        type=positive_number,
        default=60.0,
        metavar="SECONDS",
        help="seconds between ticks",
    )
    p.add_argument(
        "--ticks",
        type=positive_whole,
        metavar="N",
        help="stop after N ticks (default: never); exit 1 if the last could not publish",
    )
    p.set_defaults(run=run_watch)


def run_watch(args: argparse.Namespace) -> int:
    if not args.inbox.is_dir():
        raise UserError(f"no such inbox directory: {args.inbox}")
    store = open_store(lasting_store(args.state, "watch"))
    if args.allowlist is not None:
        load_allowlist(args.allowlist)  # a typo is one line now, not at the first tick
    watcher = Watcher(
        args.lake,
        args.inbox,
        store,
        load_policy(args.policy),
        accounts=args.accounts,
        allowlist=args.allowlist,
    )
    done, failed = 0, False
    try:
        while args.ticks is None or done < args.ticks:
            started = time.monotonic()
            line, failed = _tick(watcher)
            print(line, flush=True)
            done += 1
            if args.ticks is None or done < args.ticks:
                time.sleep(max(0.0, args.every - (time.monotonic() - started)))
    finally:
        store.close()
    # `--ticks 1` from cron: a last tick that could not publish is a failure to see
    return 1 if failed else 0


def _tick(watcher: Watcher) -> tuple[str, bool]:
    """One tick's line, and whether it failed. A store that is down fails the tick, not the
    loop: what was ingested is published at the next tick that reaches it (see
    Watcher.tick)."""
    try:
        summary = watcher.tick()
    except Exception as exc:
        return f"watch: {_store_problem(exc)}; publishing again next tick", True
    held = _held(watcher.waiting, watcher.set_aside)
    if summary is not None:
        return summary.line() + held, False
    try:  # nothing to publish: still, a store that does not answer is a failure to see
        watcher.store.get("account:")
    except Exception as exc:
        return f"watch: nothing new, but {_store_problem(exc)}{held}", True
    return f"watch: nothing new{held}", False


def _held(waiting: int, set_aside: list[str]) -> str:
    said = f"; {waiting} OpenTelemetry logs file(s) wait for a spans file to join"
    said = said if waiting else ""
    if set_aside:
        said += (
            f"; set aside {', '.join(set_aside)}: OpenTelemetry logs no spans file came with in "
            f"{HOLD_TICKS} ticks (their spans were read before them, or never came), so their "
            "message content joins no exchange"
        )
    return said


def _store_problem(exc: Exception) -> str:
    """The verdict store's failure in one line; anything else is raised again."""
    if isinstance(exc, StoreFileError):
        return f"verdict store: {describe_os_error(exc)}"
    problem = store_error(exc)
    if problem is None:
        raise exc
    return problem
