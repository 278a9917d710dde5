"""What a watch tick reads of a file that grows: the new complete lines only."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from distillguard.detect.run import detect
from distillguard.errors import UserError
from distillguard.ingest import ingest
from distillguard.ingest.lake import Lake
from distillguard.ingest.sources import Tail
from distillguard.verdicts import watch, watch_files
from distillguard.verdicts.policy import load_policy
from distillguard.verdicts.store import open_store
from distillguard.verdicts.watch import Watcher
from distillguard.verdicts.watch_files import Seen, plan, stamp

A = b'{"a": 1}\n'
B = b'{"b": 2}\n'


def _row(n: int) -> bytes:
    return orjson.dumps(
        {
            "request_id": f"r{n}",
            "ts": "2026-02-02T10:00:00Z",
            "account_id": "a",
            "model": "m",
            "messages": [{"role": "user", "content": f"question {n}"}],
        }
    )


def _seen_after(path: Path, content: bytes, read_to: int, lines: int) -> Seen:
    path.write_bytes(content)
    return Seen(stamp(path), read_to, lines)


# (name, content when last seen, how far it was read then (bytes, lines) or None for a new
#  file, content now, the tail read now (start, stop, line) or None for nothing)
CASES = [
    ("a new file, whole lines", None, None, A + B, (0, 18, 0)),
    ("a new file, half a line held back", None, None, A + b'{"b"', (0, 9, 0)),
    ("a new file of half a line", None, None, b'{"b"', None),
    ("appended whole lines", A, (9, 1), A + B, (9, 18, 1)),
    ("appended half a line", A, (9, 1), A + b'{"b', None),
    ("appended a line and a half", A, (9, 1), A + B + b'{"c', (9, 18, 1)),
    ("unchanged since read", A, (9, 1), A, None),
    ("shrank: read from the top", A + B, (18, 2), A, (0, 9, 0)),
    (
        "written again: no line end where it stopped",
        A + B,
        (18, 2),
        b'{"aaaaaaaa": 11}\n{}\n',
        (0, 20, 0),
    ),
]


Case = tuple[bytes | None, tuple[int, int] | None, bytes, tuple[int, int, int] | None]


@pytest.mark.parametrize(
    ("name", "case"), [(c[0], c[1:]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_case_reads_the_new_complete_lines(tmp_path: Path, name: str, case: Case) -> None:
    before, read, now, tail = case
    path = tmp_path / "daily.jsonl"
    seen = None if before is None or read is None else _seen_after(path, before, *read)
    path.write_bytes(now)
    reading, _ = plan(path, seen)
    got = None if reading is None else reading.tail
    assert got == (None if tail is None else Tail(*tail)), name


def test_an_unfinished_last_line_is_read_once_the_file_stays_the_same(tmp_path: Path) -> None:
    path = tmp_path / "daily.jsonl"
    path.write_bytes(A + b'{"b": 2}')  # its writer ended without a newline
    first, seen = plan(path, None)
    assert first is not None and first.tail == Tail(0, 9, 0)
    assert seen is not None and (seen.stamp, seen.read_to, seen.lines) == (stamp(path), 9, 1)
    second, seen = plan(path, seen)
    assert second is not None and second.tail == Tail(9, 17, 1)
    assert seen is not None and seen.read_to == 17 and seen.lines == 2
    assert plan(path, seen) == (None, None)


def test_a_gzip_file_that_grew_is_read_whole_again(tmp_path: Path) -> None:
    path = tmp_path / "daily.jsonl.gz"
    path.write_bytes(gzip.compress(A))
    reading, seen = plan(path, None)
    assert reading is not None and reading.tail is None and seen == Seen(stamp(path))
    assert plan(path, seen) == (None, None)
    path.write_bytes(gzip.compress(A + B))
    again, _ = plan(path, seen)
    assert again is not None and again.tail is None


def test_remembered_stamps_of_an_earlier_version_carry_on(tmp_path: Path) -> None:
    path = tmp_path / "daily.jsonl"
    path.write_bytes(A)
    old = Seen.of(stamp(path))  # a version that kept "size:mtime" only
    assert plan(path, old) == (None, None)
    path.write_bytes(A + B)
    reading, seen = plan(path, old)
    assert reading is not None and reading.tail == Tail(0, 18, 0)  # whole once, then tails
    assert seen is not None and Seen.of(orjson.loads(orjson.dumps(seen.to_json()))) == seen


def test_watch_reads_a_daily_file_a_line_at_a_time_and_quarantines_nothing_half_written(
    tmp_path: Path,
) -> None:
    """Rows appended between ticks are read once each; a row caught half written waits
    for its end instead of being quarantined; a bad row keeps its line in the file."""
    lake, inbox = tmp_path / "lake", tmp_path / "inbox"
    inbox.mkdir()
    daily = inbox / "2026-02-02.jsonl"
    daily.write_bytes(_row(1) + b"\n" + _row(2)[:20])
    watcher = Watcher(lake, inbox, open_store("memory"), load_policy())
    first = watcher.tick()
    assert first is not None and (first.kept, first.quarantined) == (1, 0)
    with daily.open("ab") as handle:
        handle.write(_row(2)[20:] + b"\n" + b"not json\n" + _row(3) + b"\n")
    second = watcher.tick()
    assert second is not None and (second.kept, second.quarantined) == (2, 1)
    assert watcher.tick() is None
    quarantined = [
        orjson.loads(line) for line in Lake(lake).quarantine_path.read_bytes().splitlines()
    ]
    assert [row["line"] for row in quarantined] == [3]


def _rotate_by_rename(path: Path, rows: bytes) -> None:
    path.rename(path.with_name(path.name + ".1"))  # no longer a log name: not read
    path.write_bytes(rows)


def _rotate_by_copytruncate(path: Path, rows: bytes) -> None:
    with path.open("r+b") as handle:
        handle.truncate(0)
    with path.open("ab") as handle:
        handle.write(rows)


@pytest.mark.parametrize("rotate", [_rotate_by_rename, _rotate_by_copytruncate])
def test_a_rotated_log_is_read_from_the_top(tmp_path: Path, rotate: Any) -> None:
    """Rows of one length put a newline where the last tick stopped in the new file too;
    reading on from there lost its first rows."""
    lake, inbox = tmp_path / "lake", tmp_path / "inbox"
    inbox.mkdir()
    log = inbox / "gateway.jsonl"
    log.write_bytes(b"".join(_row(n) + b"\n" for n in range(1, 4)))
    watcher = Watcher(lake, inbox, open_store("memory"), load_policy())
    first = watcher.tick()
    assert first is not None and first.kept == 3
    rotate(log, b"".join(_row(n) + b"\n" for n in range(4, 9)))
    second = watcher.tick()
    assert second is not None and (second.kept, second.quarantined) == (5, 0)


def test_a_log_removed_while_a_tick_looks_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shipper deletes old logs as watch lists them: the file listed is gone by the time
    its size is read, which stopped the tick with a traceback."""
    lake, inbox = tmp_path / "lake", tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "old.jsonl").write_bytes(_row(1) + b"\n")
    (inbox / "new.jsonl").write_bytes(_row(2) + b"\n")
    real_plan = watch_files.plan

    def removed_first(path: Path, seen: Seen | None) -> Any:
        if path.name == "old.jsonl":
            path.unlink()
        return real_plan(path, seen)

    monkeypatch.setattr(watch, "plan", removed_first)
    watcher = Watcher(lake, inbox, open_store("memory"), load_policy())
    summary = watcher.tick()
    assert summary is not None and (summary.files, summary.kept) == (1, 1)


def test_a_tick_that_only_quarantined_rows_runs_no_detection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows that all go to the quarantine (a bad line, a repeated row) leave the lake as
    detect last read it: the tick says so and where the rows went, and runs no detect."""
    lake, inbox = tmp_path / "lake", tmp_path / "inbox"
    inbox.mkdir()
    daily = inbox / "gateway.jsonl"
    daily.write_bytes(_row(1) + b"\n")
    runs: list[Path] = []

    def counted(lakes: list[Path], out: Path, **kwargs: Any) -> Any:
        runs.append(out)
        return detect(lakes, out, **kwargs)

    monkeypatch.setattr(watch, "detect", counted)
    watcher = Watcher(lake, inbox, open_store("memory"), load_policy())
    first = watcher.tick()
    assert first is not None and first.published is not None and len(runs) == 1
    with daily.open("ab") as handle:
        handle.write(b"not json\n" + _row(1) + b"\n")  # a bad line and a row seen before
    second = watcher.tick()
    assert second is not None and (second.kept, second.quarantined) == (0, 1)
    assert second.published is None and len(runs) == 1
    line = second.line()
    assert f"from {daily} (1) into {Lake(lake).quarantine_path}" in line
    assert "nothing new for detection" in line and "flagged" not in line
    with daily.open("ab") as handle:
        handle.write(_row(2) + b"\n")
    third = watcher.tick()
    assert third is not None and third.kept == 1 and len(runs) == 2
    assert "quarantined;" not in third.line() and "0 quarantined," in third.line()


@pytest.mark.parametrize(
    ("shown", "named"),
    [
        (("a (1)",), "from a (1) into"),
        (("a (1)", "b (2)", "c (3)"), "from a (1), b (2), c (3) into"),
        (("a (1)", "b (2)", "c (3)", "d (4)", "e (5)"), "c (3), 2 more file(s) into"),
        ((), "(into"),  # an OpenTelemetry logs record: counted, of no exchange file
    ],
)
def test_a_tick_line_names_where_quarantined_rows_came_from(
    shown: tuple[str, ...], named: str
) -> None:
    tick = watch.TickSummary(1, 0, 9, None, None, quarantined_from=shown, quarantine=Path("q"))
    assert named in tick.line()


def test_rows_an_earlier_tick_committed_are_detected_though_they_come_back_as_duplicates(
    tmp_path: Path,
) -> None:
    """A tick whose ingest failed on one file committed the others' rows; read again at
    the next tick they are duplicates, and a tick that changed nothing ran no detect: they
    were never detected. The same for a lake filled by `ingest` before watch started."""
    lake, inbox = tmp_path / "lake", tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "gateway.jsonl").write_bytes(b"".join(_row(n) + b"\n" for n in range(5)))
    broken = inbox / "broken.jsonl.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00not gzip")
    with pytest.raises(UserError, match="could not be read"):
        Watcher(lake, inbox, open_store("memory"), load_policy()).tick()
    broken.unlink()  # the operator removes it and starts watch again
    again = Watcher(lake, inbox, open_store("memory"), load_policy()).tick()
    assert again is not None and (again.kept, again.published is not None) == (0, True)
    filled = tmp_path / "filled"
    ingest([inbox / "gateway.jsonl"], filled)
    first = Watcher(filled, inbox, open_store("memory"), load_policy()).tick()
    assert first is not None and (first.kept, first.published is not None) == (0, True)
