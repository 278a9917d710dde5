"""What every subcommand shares: how a command is declared so its help teaches (a one-line
summary, a description, examples, the exit codes, every option's default), `--json`
summaries, progress bars, and tables that fit an 80-column terminal.

A new command module does:

    p = add_command(subparsers, "name", summary="...", description="...",
                    examples=[("what it does", "distillguard name ARGS")])
    p.add_argument("--opt", default=3, help="what it sets")   # the default is shown for you
    p.set_defaults(run=run)

`tests/test_cli_help.py` walks every registered command and fails, naming what to add, when
a command lacks these or an option lacks help.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # argparse's action class is not subscriptable at run time
    Subparsers = Any

EXIT_CODES = """exit codes:
  0    success
  1    an unexpected error (a bug: please report it with the traceback)
  2    a usage or input mistake, explained in one line on stderr
  130  interrupted (Ctrl-C)
  141  the reader of the output went away (e.g. '| head'); ends quietly"""

CLOSED_PIPE_EXIT = 141  # 128 + SIGPIPE, what a shell reports for a program its pipe closed
MIN_WIDE_WIDTH = 12  # the free-text column of a table never shrinks below this


def shown_default(action: argparse.Action) -> str | None:
    """The default a person should see for an option: None when there is none worth showing
    (None, False, an empty list) or when its help text already says it."""
    default = action.default
    if default is None or default is False or default in ([], argparse.SUPPRESS):
        return None
    if "(default" in (action.help or "") or not action.option_strings:
        return None
    return str(default)


def subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """A parser's subcommands as (name, one-line summary, parser), in the order registered."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            summaries = {a.dest: a.help or "" for a in action._choices_actions}
            found += [(n, summaries.get(n, ""), p) for n, p in action.choices.items()]
    return found


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """'(default: X)' after every option that has a default worth showing (not None, False or
    an empty list); prose paragraphs filled to the terminal, while indented lines and lines
    ending in ':' (the examples and exit codes) are kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = shown_default(action)
        return text if default is None else f"{text} (default: {default})"

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines: list[str] = []
        paragraph: list[str] = []

        def flush() -> None:
            if paragraph:
                filled = textwrap.fill(
                    " ".join(paragraph), width, initial_indent=indent, subsequent_indent=indent
                )
                lines.append(filled)
                paragraph.clear()

        for line in text.splitlines():
            if line.strip() and not line.startswith(" ") and not line.endswith(":"):
                paragraph.append(line.strip())
                continue
            flush()
            lines.append(indent + line if line.strip() else "")
        flush()
        return "\n".join(lines)


def epilog(examples: Sequence[tuple[str, str]]) -> str:
    """The examples (what each does, then the command line) followed by the exit codes."""
    lines = ["examples:"]
    for what, command in examples:
        lines += [f"  # {what}", f"  {command}"]
    return "\n".join(lines) + "\n\n" + EXIT_CODES


def add_command(
    subparsers: Subparsers,
    name: str,
    *,
    summary: str,
    description: str,
    examples: Sequence[tuple[str, str]],
) -> argparse.ArgumentParser:
    """A subcommand whose help teaches: `summary` is its line in `distillguard --help`,
    `description` opens its own `--help`, and `examples` (what, command line) close it."""
    if not examples:
        raise ValueError(f"command {name!r} needs at least one example")
    return subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog(examples),
        formatter_class=HelpFormatter,
    )


def out_path(text: str) -> Path:
    """An --out path: never empty, which Path reads as the current folder, nor the root,
    which is what `--out "$UNSET"/` gives (the lake or results written into /)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path (an unset shell variable?)")
    path = Path(text)
    if path.is_absolute() and path == Path(path.anchor):
        raise argparse.ArgumentTypeError(f"{text} is the file system's root (an unset variable?)")
    return path


def local_path(text: str) -> Path:
    """A path on this machine, given as a path or as a file:// URI (which Path would
    mangle to file:/...)."""
    from distillguard.ingest.remote import RemoteLake, is_uri  # here: ingest is heavy

    if not is_uri(text):
        return Path(text)
    found = RemoteLake(text).local()
    if found is None:
        raise argparse.ArgumentTypeError(
            f"{text} is not on this machine: give a path, or a file:///absolute/path URI"
        )
    return found.root


def positive_number(text: str) -> float:
    """An option's number that must be above zero (a size, a timeout, a period)."""
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (number > 0 and number != float("inf")):
        raise argparse.ArgumentTypeError(f"{text} must be above 0")
    return number


def positive_whole(text: str) -> int:
    """An option's count that must be at least 1."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return number


# Argument types whose values are paths, for shell completion.
PATH_TYPES: tuple[object, ...] = (Path, out_path, local_path)


# A parser or one of its argument groups: their common base, which typeshed names.
def add_json_flag(parser: argparse._ActionsContainer, what: str) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help=f"print {what} as one JSON object on stdout, for scripts",
    )


def _plain(value: object) -> object:
    if isinstance(value, Path | datetime):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(summary: object) -> None:
    """One JSON object on stdout: a dataclass or a dict, paths and times as strings."""
    data = asdict(summary) if is_dataclass(summary) and not isinstance(summary, type) else summary
    print(json.dumps(data, default=_plain, indent=2))


BAR_COLUMNS = (
    SpinnerColumn(),
    TextColumn("{task.description}"),
    BarColumn(),
    MofNCompleteColumn(),
    TimeElapsedColumn(),
)


@contextmanager
def progress_bars() -> Iterator[Progress]:
    """Progress bars on stderr while the block runs; none at all when stderr is not a
    terminal (pipes, files, CI logs), so output that is read by a program stays clean."""
    console = Console(stderr=True)
    with Progress(
        *BAR_COLUMNS, console=console, transient=True, disable=not console.is_terminal
    ) as bars:
        yield bars


@contextmanager
def progress(label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """One progress bar, advanced by the function the block receives."""
    with progress_bars() as bars:
        task = bars.add_task(label, total=total)
        yield functools.partial(bars.advance, task)


def fitted_table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    wide: str,
    width: int,
    show_header: bool = True,
) -> Table:
    """A table of one line per row within `width` columns: the other columns keep their full
    width and the `wide` one (free text such as reasons) gets what is left, its cells ending
    in an ellipsis instead of wrapping into tall rows."""
    natural = {
        name: max([len(name) if show_header else 0, *(len(r[i]) for r in rows)])
        for i, name in enumerate(columns)
    }
    frame = 3 * len(columns) + 1  # rich's borders and one space of padding either side
    left = width - frame - sum(n for name, n in natural.items() if name != wide)
    table = Table(title=title, show_header=show_header)
    for name in columns:
        if name == wide:
            limit = max(left, MIN_WIDE_WIDTH)
            table.add_column(name, max_width=limit, overflow="ellipsis", no_wrap=True)
        else:
            table.add_column(name, min_width=natural[name], no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


class _Console(Console):
    """A rich console that leaves a closed pipe to `ends_quietly_on_closed_pipe` (rich's own
    handler exits 1), so every command ends the same way."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def stdout_console() -> Console:
    """The console commands print their tables and summaries to (stdout)."""
    return _Console()


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command. When the reader of stdout goes away (`distillguard evaluate
    ... | head -1`), stop without a traceback and exit 141; stdout is pointed at /dev/null so
    that Python's own flush at exit does not fail again (the recipe in Python's `signal`
    documentation). Handled here, around the command, so that a broader OSError handler in
    main() never sees a closed pipe."""
    try:
        code: int = args.run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return CLOSED_PIPE_EXIT
    return code
