"""`distillguard` entry point: subcommands, and one-line errors for user mistakes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from distillguard import __version__
from distillguard.cli import demo_cmd, detect_cmd, ingest_cmd, share_cmd, simulate_cmd
from distillguard.cli.common import Subparsers
from distillguard.errors import UserError

Registrar = Callable[[Subparsers], None]
SUBCOMMANDS: tuple[Registrar, ...] = (
    ingest_cmd.register,
    ingest_cmd.register_lake,
    simulate_cmd.register,
    detect_cmd.register,
    demo_cmd.register,
    share_cmd.register,
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage mistakes as one line, like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="distillguard", description=__doc__)
    parser.add_argument("--version", action="version", version=f"distillguard {__version__}")
    subparsers: Subparsers = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )
    for register in SUBCOMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        code: int = args.run(args)
    except UserError as exc:
        print(f"distillguard: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("distillguard: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
