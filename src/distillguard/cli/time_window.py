"""`--earliest` / `--latest`: the window of plausible exchange times, for commands that ingest."""

from __future__ import annotations

import argparse

from distillguard.ingest.plausible import TimeWindow, parse_time


def add_time_window(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--earliest",
        metavar="TIME",
        help="quarantine exchanges stamped before this (default 2020-01-01)",
    )
    parser.add_argument(
        "--latest",
        metavar="TIME",
        help="quarantine exchanges stamped after this (default: a day after the run)",
    )


def time_window(args: argparse.Namespace) -> TimeWindow:
    return TimeWindow.around(
        earliest=parse_time(args.earliest) if args.earliest else None,
        latest=parse_time(args.latest) if args.latest else None,
    )
