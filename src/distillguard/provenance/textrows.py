"""JSON lines with a `text` field, as the provenance commands read them; bad rows are counted,
never fatal, unless no row is usable."""

from __future__ import annotations

import json
import re
from codecs import BOM_UTF8
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

    def line(self, what: str, aside: str = "set aside") -> str:
        shown = "; ".join(self.reasons)
        return f"{what}: read {self.read}, {aside} {self.bad}" + (f" ({shown})" if shown else "")


def parse_rows(lines: Iterable[bytes], counts: RowCounts) -> Iterator[dict[str, object]]:
    """Each good row as a dict whose `text` is a string; bad rows only counted. A BOM
    before the first row is not part of it."""
    for _, row in each_row(lines, counts):
        if row is not None:
            yield row


def each_row(
    lines: Iterable[bytes], counts: RowCounts
) -> Iterator[tuple[bytes, dict[str, object] | None]]:
    """Every line, with its row when that is a dict whose `text` is a string (None
    otherwise, counted as set aside unless blank): for a filter that passes the others on."""
    for line_no, line in enumerate(lines, 1):
        row = _parse(line.removeprefix(BOM_UTF8) if line_no == 1 else line)
        if row is _BLANK:
            yield line, None
            continue
        counts.read += 1
        if row is None:
            counts.reject(line_no, "not JSON" if _utf8(line) else "not UTF-8 text")
        elif isinstance(row, dict) and "text" not in row and "prompt" in row:
            counts.reject(line_no, "a probe (its prompt), not an answer: send it to the suspect")
        elif not isinstance(row, dict) or not isinstance(row.get("text"), str):
            counts.reject(line_no, "no string field 'text'")
        else:
            yield line, row
            continue
        yield line, None


_BLANK = object()


def _utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _parse(line: bytes) -> object:
    """The line's value, exactly: orjson checks it (strict UTF-8, no NaN), and the
    standard library reads it again when it holds a number orjson would round (integers
    past 64 bits come back as floats), so a row's other fields pass through unchanged.
    None when it is not JSON."""
    if not line.strip():
        return _BLANK
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return json.loads(line) if _HUGE_INTEGER.search(line) else value


# 19 or more digits in a row: perhaps an integer past 64 bits (a float's or a string's
# digits only cost a second, exact read)
_HUGE_INTEGER = re.compile(rb"\d{19,}")


def write_row(row: dict[str, object]) -> bytes:
    """A row as one JSON line, integers of any size exact."""
    try:
        return orjson.dumps(row) + b"\n"
    except TypeError:  # an integer past 64 bits, read exactly above
        return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


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
        why = f": {'; '.join(counts.reasons)}" if counts.reasons else ""
        raise UserError(
            f"{path} has no usable rows (JSON lines with a string 'text' field){why}{_hint(path)}"
        )
    return rows


def _hint(path: Path) -> str:
    """What the file looks like instead, from its name: a compressed file."""
    if path.name.endswith(".gz"):
        return "; it looks compressed: give it uncompressed (gunzip)"
    return ""


def read_texts(path: Path, counts: RowCounts) -> list[str]:
    """The `text` of every good row of a JSON-lines file."""
    return [str(row["text"]) for row in _rows(path, counts)]
