"""A file read again whole clears the quarantine entries it no longer gives."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from distillguard.ingest import Lake, ingest
from distillguard.ingest.outcome import UnreadableFilesError
from distillguard.ingest.sources import Tail
from tests.conftest import write_jsonl
from tests.samples import exchange_row

GOOD = orjson.dumps(exchange_row(1))


def _entries(lake: Path) -> list[dict[str, object]]:
    path = Lake(lake).quarantine_path
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def test_a_last_line_cut_off_and_completed_leaves_no_entry(tmp_path: Path) -> None:
    log, lake = tmp_path / "log.jsonl", tmp_path / "lake"
    first = orjson.dumps(exchange_row(0)) + b"\n"
    log.write_bytes(first + GOOD[: len(GOOD) // 2])  # its writer stopped mid-line
    assert ingest([log], lake).quarantined == 1
    again = ingest([log], lake)  # still cut off: the same entry, not cleared
    assert (again.quarantined_before, again.quarantine_cleared) == (1, 0)
    log.write_bytes(first + GOOD + b"\n")
    done = ingest([log], lake)
    assert (done.kept, done.quarantined, done.quarantine_cleared) == (1, 0, 1)
    assert "1 earlier quarantine entry cleared (read well now)" in done.line()
    assert _entries(lake) == []


def test_a_row_fixed_by_hand_is_cleared_and_other_files_keep_theirs(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    fixed = write_jsonl(tmp_path / "a.jsonl", [b"{not json", exchange_row(2)])
    other = write_jsonl(tmp_path / "b.jsonl", [b"{nor this", exchange_row(3)])
    assert ingest([fixed, other], lake).quarantined == 2
    write_jsonl(fixed, [exchange_row(4), exchange_row(2)])
    again = ingest([fixed], lake)
    assert (again.kept, again.quarantine_cleared) == (1, 1)
    assert [(e["source"], e["raw"]) for e in _entries(lake)] == [
        (str(other.resolve()), "{nor this")
    ]


def test_a_file_read_from_a_tail_keeps_its_entries(tmp_path: Path) -> None:
    """watch reads a growing file's new bytes only: what it did not read again stays."""
    log, lake = tmp_path / "log.jsonl", tmp_path / "lake"
    write_jsonl(log, [b"{not json"])
    ingest([log], lake)
    size = log.stat().st_size
    log.write_bytes(log.read_bytes() + GOOD + b"\n")
    grown = ingest([log], lake, tails={log: Tail(size, log.stat().st_size, 1)})
    assert (grown.kept, grown.quarantine_cleared) == (1, 0)
    assert [e["raw"] for e in _entries(lake)] == ["{not json"]


def test_a_file_that_cannot_be_read_keeps_its_entries(tmp_path: Path) -> None:
    log, lake = tmp_path / "log.jsonl.gz", tmp_path / "lake"
    write_jsonl(log, [b"{not json", *[exchange_row(i) for i in range(5, 400)]])
    ingest([log], lake)
    log.write_bytes(gzip.compress(b"{fine now}\n")[:12])  # a gzip stream cut short
    with pytest.raises(UnreadableFilesError) as raised:
        ingest([log], lake)
    assert raised.value.summary.quarantine_cleared == 0
    assert "{not json" in [e["raw"] for e in _entries(lake)]


def test_account_entries_are_left_to_the_accounts_table(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    log = write_jsonl(tmp_path / "log.jsonl", [exchange_row(6)])
    accounts = write_jsonl(tmp_path / "accounts.jsonl", [{"account_id": None}])
    first = ingest([log], lake, accounts=[accounts])
    assert first.accounts_quarantined == 1
    again = ingest([log], lake, accounts=[accounts])
    assert again.quarantine_cleared == 0
    assert [e["table"] for e in _entries(lake)] == ["accounts"]
