"""Which quarantined lines of a file have since been completed by their writer.

A writer stopped mid-line (a crash, a copy taken while it wrote) leaves a last line that
is not whole JSON, and ingest quarantines it. Once the writer finishes the line and the
file is ingested again, the row is read whole, and the quarantine's entry names text the
file no longer holds. That is the one case an entry may be cleared: the line at the same
number now starts with the quarantined text and goes on. A file rotated or replaced at
the same path holds other lines there, so its entries stay (they are the only copy).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from distillguard.ingest.sources import PARQUET_SUFFIXES, is_gzip, raw_text


def completed_lines(source: str, cut: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """The (line number, quarantined text) pairs of `cut` whose line in the file `source`
    now begins with that text and is longer. Lines the file no longer reaches, or cannot
    be read to (a damaged gzip), are not completed."""
    wanted: dict[int, list[str]] = {}
    for number, text in cut:
        wanted.setdefault(number, []).append(text)
    done: set[tuple[int, str]] = set()
    last = max(wanted, default=0)
    try:
        for number, line in enumerate(_lines(Path(source)), start=1):
            if number > last:
                break
            now = raw_text(line) if number in wanted else ""
            done |= {(number, t) for t in wanted.get(number, []) if _completes(now, t)}
    except (OSError, EOFError, zlib.error):
        pass  # what was read so far stands; the rest of the file says nothing
    return done


def _completes(now: str, cut: str) -> bool:
    # an empty text (an unreadable part's marker) is the start of every line: never
    return bool(cut) and now != cut and now.startswith(cut)


def _lines(path: Path) -> Iterator[bytes]:
    if path.name.lower().endswith(PARQUET_SUFFIXES):
        return  # rows, not lines: nothing there is ever cut off mid-line
    if is_gzip(path):
        with gzip.open(path, "rb") as unzipped:
            yield from unzipped
    else:
        with path.open("rb") as plain:
            yield from plain
