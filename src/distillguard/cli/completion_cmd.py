"""`distillguard completion`: a shell completion script, generated from the parser by shtab,
so the commands other modules register complete without any extra work."""

from __future__ import annotations

import argparse

import shtab

from distillguard.cli.common import PATH_TYPES, Subparsers, add_command

SHELLS = ("bash", "zsh")
DIRECTORY_METAVARS = frozenset({"DIR", "LAKE"})


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "completion",
        summary="print a bash or zsh completion script",
        description="Print a script that completes distillguard's commands, options and "
        "paths in your shell. Write it once where your shell looks for completions, as the "
        "examples show.",
        examples=[
            (  # written once: an eval in ~/.bashrc ran the CLI (about 2 s) in every new shell
                "complete in every new bash (bash-completion loads it on first use)",
                "distillguard completion bash > ~/.local/share/bash-completion/completions/"
                "distillguard",
            ),
            (
                "complete in zsh (a directory on $fpath)",
                "distillguard completion zsh > ~/.zfunc/_distillguard",
            ),
        ],
    )
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(run=run)


def mark_paths(parser: argparse.ArgumentParser) -> None:
    """Complete every Path argument (here and in every subcommand) with file names, or with
    directory names when its metavar says it is a directory."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                mark_paths(sub)
        elif action.type in PATH_TYPES:
            kind = shtab.DIRECTORY if action.metavar in DIRECTORY_METAVARS else shtab.FILE
            action.complete = kind  # type: ignore[attr-defined]


def run(args: argparse.Namespace) -> int:
    from distillguard.cli.main import build_parser  # the whole parser, built by main

    parser = build_parser()
    mark_paths(parser)
    print(shtab.complete(parser, shell=args.shell))
    return 0
