"""JSON lines with a `text` field, as the provenance commands read them; bad rows are counted,
never fatal, unless no row is usable."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from distillguard.errors import UserError
from distillguard.provenance.positions import Answer


@dataclass
class RowCounts:
    """How many rows were read and how many were set aside, with the first few reasons."""

    read: int = 0
    bad: int = 0
    reasons: list[str] = field(default_factory=list)

    def reject(self, line_no: int, why: str) -> None:
        self.bad += 1
        if len(self.reasons) < 3:
            self.reasons.append(f"line {line_no}: {why}")

    def line(self, what: str) -> str:
        shown = "; ".join(self.reasons)
        return f"{what}: read {self.read}, set aside {self.bad}" + (f" ({shown})" if shown else "")


def parse_rows(lines: Iterable[str | bytes], counts: RowCounts) -> Iterator[dict[str, object]]:
    """Each good row as a dict whose `text` is a string; bad rows only counted."""
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        counts.read += 1
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            counts.reject(line_no, "not JSON")
            continue
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            counts.reject(line_no, "no string field 'text'")
            continue
        yield row


def read_answers(path: Path, counts: RowCounts) -> list[str | Answer]:
    """Suspect outputs: the `text` of each row, with its probe's `prefix` when the row has one."""
    return [
        Answer(str(row["prefix"]), str(row["text"]))
        if isinstance(row.get("prefix"), str)
        else str(row["text"])
        for row in _rows(path, counts)
    ]


def _rows(path: Path, counts: RowCounts) -> list[dict[str, object]]:
    try:
        with path.open("rb") as handle:
            rows = list(parse_rows(handle, counts))
    except FileNotFoundError:
        raise UserError(f"file not found: {path}") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    if not rows:
        raise UserError(f"{path} has no usable rows (JSON lines with a string 'text' field)")
    return rows


def read_texts(path: Path, counts: RowCounts) -> list[str]:
    """The `text` of every good row of a JSON-lines file."""
    return [str(row["text"]) for row in _rows(path, counts)]
