"""`distillguard export sigma`: detection content for the tools security teams run."""

from __future__ import annotations

import argparse

from distillguard.cli.common import Subparsers, add_command, out_path
from distillguard.errors import UserError
from distillguard.findings.sigma import write_sigma


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "export",
        summary="write detection content for other tools",
        description="Write detection content that other security tools run themselves. "
        "KIND says which: today 'sigma', Sigma rules for the per-request signals. "
        "Findings for a SIEM are not exported here: every detect run writes them as OCSF "
        "1.5 Detection Findings to OUT/findings.ocsf.jsonl.",
        examples=[("Sigma rules for your SIEM", "distillguard export sigma --out rules")],
    )
    kinds = p.add_subparsers(dest="kind", required=True, metavar="KIND", title="kinds")
    sigma = add_command(
        kinds,
        "sigma",
        summary="Sigma rules for the per-request signals, for SIEMs and gateway logs",
        description="Write one Sigma rule per prompt classifier (chain-of-thought "
        "elicitation, trace extraction, rubric grading, censorship rewrite), generated from "
        "the classifier's own patterns so that a rule matches exactly the prompts the "
        "classifier counts, and exchange_log_view.sql, the rules' logsource over a lake for "
        "DuckDB. The logsource is product distillguard, service exchange_log: exchange-log "
        "v1 rows with a 'prompt' field, the text of the exchange's last message; map your "
        "gateway logs' field to it. Convert the rules with pySigma (tested with the DuckDB "
        "and Splunk backends). One match is not an attack: the rules are for hunting and "
        "counting per account.",
        examples=[
            ("write the rules and the DuckDB view", "distillguard export sigma --out rules"),
        ],
    )
    sigma.add_argument(
        "--out",
        required=True,
        type=out_path,
        metavar="DIR",
        help="the folder to write the rules to",
    )
    sigma.set_defaults(run=run_sigma)


def run_sigma(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"{args.out} is a file: --out names the folder the rules go to")
    try:
        paths = write_sigma(args.out)
    except OSError as exc:
        raise UserError(f"cannot write Sigma rules to {args.out}: {exc.strerror}") from None
    rules = [p for p in paths if p.suffix == ".yml"]
    print(f"export: {len(rules)} Sigma rules and the DuckDB logsource view -> {args.out}")
    return 0
