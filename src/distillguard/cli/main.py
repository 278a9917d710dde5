"""`distillguard` entry point: subcommands, and one-line errors for user mistakes."""

from __future__ import annotations

import argparse
import re
import signal
import sys
from collections.abc import Callable, Sequence

import duckdb

from distillguard import __version__
from distillguard.cli.common import (
    EXIT_CODES,
    HelpFormatter,
    Subparsers,
    run_command,
    subcommands,
)
from distillguard.cli.failures import damaged_file, describe_database_error, describe_os_error
from distillguard.errors import UserError
from distillguard.store.interrupts import interrupting_queries, stopped_by
from distillguard.verdicts.store import store_error
from distillguard.workers import terminate_on_sigterm

Registrar = Callable[[Subparsers], None]


def registrars() -> tuple[Registrar, ...]:
    """Each subcommand's registrar, in the order `--help` lists them. Imported when a
    parser is built, not with this module: a worker process (detect's signal workers)
    runs its parent's main module again, and needs none of the commands, which cost each
    worker about a second to import."""
    from distillguard.cli import (
        completion_cmd,
        console_cmd,
        demo_cmd,
        detect_cmd,
        evaluate_cmd,
        export_cmd,
        gateway_cmd,
        ingest_cmd,
        provenance_cmd,
        share_cmd,
        simulate_cmd,
        verdicts_cmd,
        watch_cmd,
    )

    return (
        ingest_cmd.register,
        ingest_cmd.register_lake,
        simulate_cmd.register,
        detect_cmd.register,
        evaluate_cmd.register,
        demo_cmd.register,
        verdicts_cmd.register,
        gateway_cmd.register,
        watch_cmd.register,
        console_cmd.register,
        export_cmd.register,
        completion_cmd.register,
        provenance_cmd.register,
        share_cmd.register,
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
        option = re.fullmatch(r"argument (--[\w-]+)(?:/-\w)?: expected one argument", message)
        if option:  # `--ttl -5m`: argparse took the value for an option and said only this
            message += f" (give one; a value that starts with '-' is written {option[1]}=VALUE)"
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
    for register in registrars():
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with terminate_on_sigterm(), interrupting_queries():
        try:
            return _run(argv)
        except KeyboardInterrupt:  # one raised while _run handled DuckDB's own interrupt
            return _interrupted()


def _run(argv: Sequence[str] | None) -> int:
    try:
        args = _parse(build_parser(), list(sys.argv[1:] if argv is None else argv))
        code = run_command(args)
    except UserError as exc:
        return _fail(str(exc))
    except BrokenPipeError:
        raise  # a closed pipe is not a failure to report (its reader left)
    except OSError as exc:
        return _fail(describe_os_error(exc))
    except (duckdb.IOException, duckdb.OutOfMemoryException) as exc:
        return _fail(describe_database_error(exc))
    except KeyboardInterrupt:
        return _interrupted()
    except Exception as exc:  # a user's damaged file or store; anything else is a bug
        if _query_interrupted(exc):
            return _query_stopped()
        problem = store_error(exc) or _damaged(exc)
        if problem is None:
            raise
        return _fail(problem)
    return code


def _interrupted() -> int:
    print("distillguard: interrupted", file=sys.stderr)
    return 130


def _query_stopped() -> int:
    """A query a stop signal interrupted: SIGTERM's status, as terminate_on_sigterm's exit
    gives it (the query's error had taken the place of that SystemExit), else Ctrl-C's."""
    if stopped_by() == signal.SIGTERM:
        return 128 + signal.SIGTERM
    return _interrupted()


def _query_interrupted(exc: Exception) -> bool:
    """Ctrl-C while DuckDB runs a query: DuckDB takes the signal and stops the query, which
    raises its own error (InterruptException, or RuntimeError from a relation's fetch), not
    KeyboardInterrupt; it was a traceback and exit 1, which says a bug."""
    interrupted = isinstance(exc, RuntimeError) and str(exc) == "Query interrupted"
    return interrupted or isinstance(exc, duckdb.InterruptException)


def _damaged(exc: Exception) -> str | None:
    """A damaged file DuckDB refused (some of its complaints are plain duckdb.Error)."""
    if isinstance(exc, duckdb.Error) and damaged_file(exc):
        return describe_database_error(exc)
    return None


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """parse_args, but words left over are blamed on the command they were given to: its
    help is the one that lists what it takes."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        where = _command_path(parser, argv)
        raise UserError(f"unrecognized arguments: {' '.join(extras)} (see '{where} --help')")
    return args


def _command_path(parser: argparse.ArgumentParser, argv: list[str]) -> str:
    """The program and the (sub)commands named in `argv`, as a user types them."""
    path = [parser.prog]
    for word in argv:
        choices = {name: sub for name, _, sub in subcommands(parser)}
        if not choices:
            break
        if word in choices:
            path.append(word)
            parser = choices[word]
    return " ".join(path)


def _fail(message: str) -> int:
    print(f"distillguard: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
