"""Lake part files that are not whole Parquet: found, set aside in LAKE/_damaged, and
said to whoever reads the lake while they are there."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # lake.py imports this module to recover a lake
    from distillguard.ingest.lake import Lake

DAMAGED = "_damaged"


def _is_whole_parquet(path: Path) -> bool:
    """Parquet starts and ends with the magic `PAR1`; a file cut short lacks the end."""
    if path.stat().st_size < 12:
        return False
    with path.open("rb") as handle:
        head = handle.read(4)
        handle.seek(-4, 2)
        return head == handle.read(4) == b"PAR1"


def damaged_parts(lake: Lake) -> list[Path]:
    """Part files that are not whole Parquet: cut short by a run killed mid-write under an
    earlier version (this one never publishes a file before it is whole), a bad copy or
    disk damage."""
    return [path for path in lake.exchange_files() if not _is_whole_parquet(path)]


def set_aside_damaged(lake: Lake) -> list[Path]:
    """Move damaged part files out of the lake, to LAKE/_damaged/, so the lake reads again;
    re-ingesting their source files puts their rows back (their ids are no longer held)."""
    moved = []
    for part in damaged_parts(lake):
        target = lake.root / DAMAGED / part.relative_to(lake.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        part.replace(target)
        moved.append(target)
    return moved


def set_aside_parts(lake: Lake) -> list[Path]:
    """The damaged part files moved to LAKE/_damaged: their exchanges are not read until
    their source files are ingested again."""
    folder = lake.root / DAMAGED
    return sorted(p for p in folder.rglob("*.parquet") if p.is_file()) if folder.is_dir() else []


def set_aside_text(lake: Lake) -> str:
    """What a reader of the lake is told while parts are set aside ("" when none)."""
    parts = set_aside_parts(lake)
    if not parts:
        return ""
    return (
        f"{len(parts)} damaged part file(s) set aside in {lake.root / DAMAGED} (not whole "
        "Parquet): their exchanges are not read unless their source files were ingested "
        "again (then delete that folder)"
    )
