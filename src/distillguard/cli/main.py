"""`distillguard` entry point: subcommands, and one-line errors for user mistakes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from distillguard import __version__
from distillguard.cli import (
    completion_cmd,
    demo_cmd,
    detect_cmd,
    export_cmd,
    ingest_cmd,
    simulate_cmd,
)
from distillguard.cli.common import (
    EXIT_CODES,
    HelpFormatter,
    Subparsers,
    run_command,
)
from distillguard.errors import UserError

Registrar = Callable[[Subparsers], None]
SUBCOMMANDS: tuple[Registrar, ...] = (
    ingest_cmd.register,
    ingest_cmd.register_lake,
    simulate_cmd.register,
    detect_cmd.register,
    demo_cmd.register,
    export_cmd.register,
    completion_cmd.register,
)

DESCRIPTION = """Detect, explain and stop distillation attacks on an LLM API: the harvesting
of a model's outputs through its API to train a rival. Read your API logs into a local
Parquet lake, flag the accounts and clusters that harvest, and see the evidence."""

EPILOG = f"""start here:
  distillguard demo --out demo-out       # a simulated week, end to end, with a report
  distillguard COMMAND --help            # what a command does, its options and examples

{EXIT_CODES}"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage mistakes as one line, like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="distillguard",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"distillguard {__version__}",
        help="print the version",
    )
    subparsers: Subparsers = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND", title="commands"
    )
    for register in SUBCOMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        code = run_command(args)
    except UserError as exc:
        print(f"distillguard: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("distillguard: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
