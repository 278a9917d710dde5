"""Help that teaches, for every command registered in cli/main.py, including ones added later:
each failure says exactly what to add, and where."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from distillguard.cli import main as cli_main
from distillguard.cli.common import EXIT_CODES, HelpFormatter, shown_default, subcommands
from distillguard.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
HOW = (
    "create the command with distillguard.cli.common.add_command(subparsers, NAME, "
    "summary=..., description=..., examples=[(what, command line), ...])"
)


def _walk(
    parser: argparse.ArgumentParser, prefix: str = "distillguard"
) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    for name, summary, sub in subcommands(parser):
        yield f"{prefix} {name}", summary, sub
        yield from _walk(sub, f"{prefix} {name}")


COMMANDS = list(_walk(cli_main.build_parser()))


def _where(parser: argparse.ArgumentParser) -> str:
    run = parser.get_default("run")
    return f"in {run.__module__}" if run is not None else "where it is registered"


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a
        for a in parser._actions
        if not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)
    ]


def command_problems(command: str, summary: str, parser: argparse.ArgumentParser) -> list[str]:
    """What a command's help lacks, each with what to add and where."""
    where = _where(parser)
    epilog = parser.epilog or ""
    checks = [
        (summary.strip(), "no one-line summary in 'distillguard --help'"),
        ((parser.description or "").strip(), "no description"),
        (
            isinstance(parser._get_formatter(), HelpFormatter),
            "help that would not show defaults, examples or exit codes",
        ),
        ("examples:" in epilog and f"  {command}" in epilog, "no example that runs it"),
        (EXIT_CODES in epilog, "help that does not list the exit codes"),
    ]
    return [f"{command}: {what} ({where}): {HOW}" for ok, what in checks if not ok]


def option_problems(command: str, parser: argparse.ArgumentParser) -> list[str]:
    """Options without help text, or whose default the help does not show."""
    text = parser.format_help()
    found = []
    for action in _options(parser):
        name = "/".join(action.option_strings) or action.metavar or action.dest
        if not action.help or action.help == argparse.SUPPRESS:
            found.append(
                f"{command}: {name} has no help text: add help='what it is for' to its "
                f"add_argument call {_where(parser)}"
            )
        default = shown_default(action)
        if default is not None and f"(default: {default})" not in text:
            found.append(f"{command}: {name} hides its default: {HOW}")
    return found


@pytest.mark.parametrize(
    ("command", "summary", "parser"), COMMANDS, ids=[c for c, _, _ in COMMANDS]
)
def test_every_command_teaches(command: str, summary: str, parser: argparse.ArgumentParser) -> None:
    problems = command_problems(command, summary, parser)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("command", "summary", "parser"), COMMANDS, ids=[c for c, _, _ in COMMANDS]
)
def test_every_option_has_help_and_shows_its_default(
    command: str, summary: str, parser: argparse.ArgumentParser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option, so a default is never split
    problems = option_problems(command, parser)
    assert not problems, "\n".join(problems)


def test_the_checks_name_what_a_bare_command_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command added the plain argparse way fails, and the messages say what to add."""
    monkeypatch.setenv("COLUMNS", "1000")
    parser = argparse.ArgumentParser(prog="distillguard")
    bare = parser.add_subparsers().add_parser("bare")
    bare.add_argument("--limit", type=int, default=5)
    [(command, summary, sub)] = _walk(parser)
    problems = command_problems(command, summary, sub) + option_problems(command, sub)
    assert len(problems) == 7, problems
    assert all("add_command(subparsers, NAME" in p for p in problems[:5])
    assert "--limit has no help text: add help=" in problems[5]
    assert "--limit hides its default" in problems[6]


def test_top_level_help_opens_with_what_it_does_not_a_docstring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "1000")
    text = cli_main.build_parser().format_help()
    description = text.split("\n\n")[1]
    assert cli_main.__doc__ is not None
    assert cli_main.__doc__.split(":")[0] not in description
    assert description.startswith("Detect, explain and stop distillation attacks")
    for command, summary, _ in COMMANDS:
        if command.count(" ") == 1:
            assert command.split()[1] in text and summary in text
    assert EXIT_CODES in text


def test_default_shown_for_an_int_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    """0 == False in Python: a seed of 0 must still show its default."""
    monkeypatch.setenv("COLUMNS", "1000")
    parser = dict((c, p) for c, _, p in COMMANDS)["distillguard detect"]
    assert "(default: 0)" in parser.format_help()


def test_readme_reference_matches_the_parser() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cli_reference.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _example_lines(parser: argparse.ArgumentParser) -> list[str]:
    epilog = (parser.epilog or "").split("\n\n")[0]
    return [line.strip() for line in epilog.splitlines() if line.startswith("  distillguard ")]


@pytest.mark.parametrize(
    ("command", "summary", "parser"), COMMANDS, ids=[c for c, _, _ in COMMANDS]
)
def test_every_example_parses(command: str, summary: str, parser: argparse.ArgumentParser) -> None:
    """The examples run as written: each parses with today's options (up to a pipe)."""
    examples = _example_lines(parser)
    assert examples, f"{command}: no example starting with 'distillguard'"
    for example in examples:
        words = shlex.split(example.split(" | ")[0].split(" > ")[0])[1:]
        try:
            cli_main.build_parser().parse_args(words)
        except UserError as exc:
            pytest.fail(f"{command}: the example '{example}' does not parse: {exc}")
