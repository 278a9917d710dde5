"""A line its writer cut off and has since completed leaves the quarantine; nothing else."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from distillguard.ingest import Lake, ingest
from distillguard.ingest.completed import completed_lines
from distillguard.ingest.sources import Tail
from tests.samples import exchange_row

FIRST = orjson.dumps(exchange_row(0)) + b"\n"
GOOD = orjson.dumps(exchange_row(1))
CUT = GOOD[: len(GOOD) // 2]  # its writer stopped mid-line


def _entries(lake: Path) -> list[dict[str, object]]:
    path = Lake(lake).quarantine_path
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


@pytest.mark.parametrize("name", ["log.jsonl", "log.jsonl.gz"])
def test_a_last_line_cut_off_and_completed_leaves_no_entry(tmp_path: Path, name: str) -> None:
    log, lake = _write(tmp_path / name, FIRST + CUT), tmp_path / "lake"
    assert ingest([log], lake).quarantined == 1
    Lake(lake).quarantine_path.chmod(0o600)  # it holds raw prompts: an operator's mode stays
    again = ingest([log], lake)  # still cut off: the same entry, not cleared
    assert (again.quarantined_before, again.quarantine_cleared) == (1, 0)
    _write(log, FIRST + GOOD + b"\n")
    done = ingest([log], lake)
    assert (done.kept, done.quarantined, done.quarantine_cleared) == (1, 0, 1)
    assert "1 earlier quarantine entry cleared (a line cut off then is whole now)" in done.line()
    assert _entries(lake) == []
    assert Lake(lake).quarantine_path.stat().st_mode & 0o777 == 0o600


def test_a_completed_line_that_is_still_bad_replaces_its_entry(tmp_path: Path) -> None:
    log, lake = (
        _write(tmp_path / "log.jsonl", FIRST + b'{"request_id": "r-2", "ts'),
        tmp_path / "lake",
    )
    ingest([log], lake)
    _write(log, FIRST + b'{"request_id": "r-2", "ts": "yesterday"}\n')
    done = ingest([log], lake)
    assert (done.quarantined, done.quarantine_cleared) == (1, 1)
    assert [e["raw"] for e in _entries(lake)] == ['{"request_id": "r-2", "ts": "yesterday"}']


def test_a_file_rotated_or_replaced_at_its_path_keeps_the_entries(tmp_path: Path) -> None:
    """The entry is the only copy of its row: another file at the same path, a good row at
    its line number, says nothing of it."""
    lake = tmp_path / "lake"
    log = _write(tmp_path / "app.jsonl", FIRST + b'{"request_id": "precious", broken\n' + CUT)
    other = _write(tmp_path / "b.jsonl", b"{nor this\n")
    assert ingest([log, other], lake).quarantined == 3
    log.rename(tmp_path / "app.jsonl.1")
    _write(log, b"".join(orjson.dumps(exchange_row(i)) + b"\n" for i in range(5, 9)))
    again = ingest([log], lake)
    assert (again.kept, again.quarantine_cleared) == (4, 0)
    assert len(_entries(lake)) == 3


def test_a_file_read_from_a_tail_keeps_its_entries(tmp_path: Path) -> None:
    """watch reads a growing file's new bytes only: the completed line is not read."""
    log, lake = _write(tmp_path / "log.jsonl", FIRST + CUT), tmp_path / "lake"
    ingest([log], lake)
    size = log.stat().st_size
    _write(log, FIRST + GOOD + b"\n")
    grown = ingest([log], lake, tails={log: Tail(size, log.stat().st_size, 2)})
    assert grown.quarantine_cleared == 0  # its line's rest was read as a line of its own
    assert CUT.decode() in [e["raw"] for e in _entries(lake)]


def test_a_damaged_gzip_keeps_the_entries_it_cannot_reach(tmp_path: Path) -> None:
    log, lake = tmp_path / "log.jsonl.gz", tmp_path / "lake"
    rows = b"".join(orjson.dumps(exchange_row(i)) + b"\n" for i in range(5, 3000))
    _write(log, rows + CUT)
    ingest([log], lake)
    whole = gzip.compress(rows + GOOD + b"\n")
    log.write_bytes(whole[: len(whole) // 2])  # the completed file, copied half way
    again = ingest([log], lake)  # the part past the damage is quarantined, unread
    assert again.quarantine_cleared == 0
    assert CUT.decode() in [e["raw"] for e in _entries(lake)]


def test_an_unreadable_parts_marker_is_completed_by_no_line(tmp_path: Path) -> None:
    """A part that could not be read is quarantined as one entry with no text; every
    line begins with the empty text, so a file rotated at its path cleared the marker."""
    log = _write(tmp_path / "log.jsonl", FIRST + GOOD + b"\n")
    cut = {(1, ""), (2, CUT.decode()), (2, "something else"), (9, "past the end")}
    assert completed_lines(str(log), cut) == {(2, CUT.decode())}
