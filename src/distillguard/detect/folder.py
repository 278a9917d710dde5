"""detect's output folder, replaced whole: a run writes into a hidden sibling and swaps it in.

Readers (evaluate, a person, a SIEM picking up findings) see the previous run's folder or
the new one, never a mix: the new folder is written beside the old one, marked complete
with a small record (`detect.json`), then swapped in (store/atomic.py). A run killed before
the swap leaves the old folder untouched; the next run removes the dead sibling, or puts it
in place if it was complete and the old folder had already been moved aside.

Because the folder is replaced whole, `--out` must be new, empty, or a previous detect
output: anything else (a file, a folder of other things, the lake being read) is refused
rather than deleted.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import orjson

from distillguard.errors import UserError
from distillguard.faults import crash_point
from distillguard.store.atomic import recover_dir, replace_dir, write_bytes
from distillguard.store.lock import is_abandoned, lock_dir

RECORD = "detect.json"
# What a detect output held before the record existed; such folders may be replaced too.
_EARLIER_OUTPUT = ("accounts.parquet", "report.html")


def _is_output(path: Path) -> bool:
    return (path / RECORD).exists() or all((path / name).exists() for name in _EARLIER_OUTPUT)


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def check_target(target: Path, reads: list[Path]) -> None:
    """Refuse an `--out` that replacing whole would damage."""
    if target.exists() and not target.is_dir():
        raise UserError(f"--out {target} is a file, not a folder")
    for path in reads:
        if _inside(path, target):
            raise UserError(
                f"--out {target} holds the input {path}, and detect replaces its output folder"
                " whole: choose another --out"
            )
    if target.is_dir() and any(target.iterdir()) and not _is_output(target):
        raise UserError(
            f"--out {target} is a folder that detect did not write; detect replaces its output"
            " folder whole, so give it a new or empty folder"
        )


def _siblings(target: Path) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.partial-*"))


def recover(target: Path) -> None:
    """Finish or remove what dead runs left beside `target`."""
    for staging in _siblings(target):
        if staging.name.endswith(".old"):
            continue  # handled with the staging folder it belongs to
        if is_abandoned(staging):
            recover_dir(staging, target, complete=(staging / RECORD).exists())
    for parked in _siblings(target):
        partner = parked.with_name(parked.name.removesuffix(".old"))
        if parked.name.endswith(".old") and not partner.exists():
            recover_dir(partner, target, complete=False)


class OutputFolder:
    """A run's private staging folder, published in place of `target` by `publish`."""

    def __init__(self, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        recover(target)
        self.target = target
        self.staging = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
        self.staging.mkdir()
        self._lock = lock_dir(self.staging)

    def publish(self, record: dict[str, Any]) -> None:
        """Mark the staging folder complete and swap it in for the target."""
        write_bytes(self.staging / RECORD, orjson.dumps(record, option=orjson.OPT_INDENT_2))
        crash_point("detect.complete")
        replace_dir(self.staging, self.target)

    def close(self) -> None:
        """Release the run's lock and remove whatever was not published."""
        recover_dir(self.staging, self.target, complete=False)
        os.close(self._lock)
