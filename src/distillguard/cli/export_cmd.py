"""`distillguard export sigma`: detection content for the tools security teams run."""

from __future__ import annotations

import argparse
from pathlib import Path

from distillguard.cli.common import Subparsers
from distillguard.errors import UserError
from distillguard.findings.sigma import write_sigma


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("export", help="write detection content for other tools")
    kinds = p.add_subparsers(dest="kind", required=True, metavar="KIND")
    sigma = kinds.add_parser(
        "sigma", help="Sigma rules for the per-request signals, for SIEMs and gateway logs"
    )
    sigma.add_argument("--out", required=True, type=Path, metavar="DIR")
    sigma.set_defaults(run=run_sigma)


def run_sigma(args: argparse.Namespace) -> int:
    try:
        paths = write_sigma(args.out)
    except OSError as exc:
        raise UserError(f"cannot write Sigma rules to {args.out}: {exc.strerror}") from None
    rules = [p for p in paths if p.suffix == ".yml"]
    print(f"export: {len(rules)} Sigma rules and the DuckDB logsource view -> {args.out}")
    return 0
