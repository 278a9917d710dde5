"""Files a command creates must go into a folder that is there already.

A command that made every missing folder on its way turned a typo into a quiet success:
`--state /typo/dir/verdicts.jsonl` gave the gateway a new, empty verdict store to enforce,
and an analyst's block went where no gateway looked.
"""

from __future__ import annotations

from pathlib import Path

from distillguard.errors import UserError


def check_folder(path: Path, what: str) -> None:
    """Refuse, in one line, a `what` file at `path` whose folder does not exist."""
    folder = path.parent
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise UserError(f"{what} {path}: its folder {folder} {problem} (a typo?): create it first")
