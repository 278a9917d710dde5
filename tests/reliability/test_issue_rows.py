"""One test per row of issue 20's table: bad bytes, absurd numbers and times, bad files,
filesystem failures and wrong labels. Crashes are in test_crash.py, fuzzing in test_fuzz.py."""

from __future__ import annotations

import errno
import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from distillguard.cli.main import main
from distillguard.detect.run import detect
from distillguard.ingest import Lake, ingest, sources
from distillguard.ingest.plausible import TimeWindow, parse_time
from distillguard.ingest.quarantine import TOO_DEEP_TO_WRITE, bad_row
from distillguard.ingest.sources import RawRecord
from distillguard.store import lock
from tests.conftest import write_jsonl
from tests.reliability.helpers import lake_ids, one_line_error, quarantine_entries, run_cli
from tests.samples import exchange_row


def _line(index: int) -> bytes:
    return orjson.dumps(exchange_row(index))


def _with_bad_byte(index: int) -> bytes:
    """A row with one byte that is not UTF-8 inside a JSON string."""
    return _line(index).replace(b"Question", b"Qu\xffestion")


def _with_huge_asn(index: int) -> bytes:
    return _line(index).replace(b'"asn":64500', b'"asn":' + str(2**70).encode())


def _nested_deep(index: int) -> bytes:
    """A row whose tool input (which a client controls) nests 1,200 objects deep."""
    deep = b"1"
    for _ in range(1200):
        deep = b'{"a":' + deep + b"}"
    return _line(index)[:-1] + b',"extra":' + deep + b"}"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [(_with_bad_byte, "not UTF-8"), (_with_huge_asn, "asn"), (_nested_deep, "nested deeper")],
    ids=["non-utf8-byte", "asn-2^70", "nested-1200-deep"],
)
@pytest.mark.parametrize("workers", [1, 2])
def test_a_bad_row_is_quarantined_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: object, reason: str, workers: int
) -> None:
    monkeypatch.setattr(sources, "CHUNK_BYTES", 8192)  # several chunks, bad one in the middle
    rows = [_line(i) for i in range(300)]
    rows[150] = bad(150)  # type: ignore[operator]
    summary = ingest([write_jsonl(tmp_path / "in.jsonl", rows)], tmp_path / "lake", workers=workers)
    assert (summary.read, summary.kept, summary.quarantined) == (300, 299, 1)
    [entry] = quarantine_entries(tmp_path / "lake")
    assert entry["line"] == 151
    assert reason in str(entry["reason"])
    assert len(lake_ids(tmp_path / "lake")) == 299


ABSURD = [
    ("9999-01-01T00:00:00Z", "more than a day after the run"),
    ("1960-01-01T00:00:00Z", "before the earliest plausible time 2020-01-01"),
]


def test_absurd_timestamps_are_quarantined(tmp_path: Path) -> None:
    rows = [exchange_row(i) for i in range(24)]
    rows += [exchange_row(100 + n, ts=ts) for n, (ts, _) in enumerate(ABSURD)]
    summary = ingest([write_jsonl(tmp_path / "in.jsonl", rows)], tmp_path / "lake")
    assert (summary.kept, summary.quarantined) == (24, 2)
    reasons = [str(e["reason"]) for e in quarantine_entries(tmp_path / "lake")]
    assert [want in got for (_, want), got in zip(ABSURD, reasons, strict=True)] == [True, True]
    again = ingest([tmp_path / "in.jsonl"], tmp_path / "lake")  # same reasons: kept once
    assert (again.quarantined, again.quarantined_before) == (2, 2)
    assert len(quarantine_entries(tmp_path / "lake")) == 2


def test_the_time_window_is_configurable(tmp_path: Path) -> None:
    rows = [exchange_row(1, ts="2019-06-01T00:00:00Z"), exchange_row(2)]  # row 2: 2026-02-12
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    window = TimeWindow.around(earliest=parse_time("2019-01-01"), latest=parse_time("2026-02-11"))
    summary = ingest([source], tmp_path / "lake", window=window)
    assert (summary.kept, summary.quarantined) == (1, 1)
    assert "after the latest plausible time 2026-02-11T00:00:00Z" in str(
        quarantine_entries(tmp_path / "lake")[0]["reason"]
    )
    assert main(["ingest", str(source), "--out", str(tmp_path / "l2"), "--earliest", "20x9"]) == 2
    assert (
        main(["ingest", str(source), "--out", str(tmp_path / "l3"), "--earliest", "2019-01-01"])
        == 0
    )
    assert len(lake_ids(tmp_path / "l3")) == 2


def test_detect_on_absurd_timestamps_finishes(tmp_path: Path) -> None:
    """On main this run never finished: replay walked every hour from 1960 to 9999."""
    rows = [exchange_row(i) for i in range(24)]
    rows += [exchange_row(100 + n, ts=ts) for n, (ts, _) in enumerate(ABSURD)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    result = run_cli("detect", source, "--out", tmp_path / "out", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "2 exchange row(s) quarantined" in " ".join(result.stdout.split())


def test_a_directory_keeps_good_files_and_names_every_bad_one(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    write_jsonl(inputs / "a.jsonl", [exchange_row(i) for i in range(10)])
    write_jsonl(inputs / "c.jsonl.gz", [exchange_row(i) for i in range(10, 20)])
    (inputs / "b.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (inputs / "d.parquet").write_bytes(b"not parquet at all")
    result = run_cli("ingest", inputs, "--out", tmp_path / "lake")
    error = one_line_error(result)
    assert "b.jsonl.gz" in error and "d.parquet" in error and "2 file(s)" in error
    assert "kept 20" in error
    assert sorted(lake_ids(tmp_path / "lake")) == sorted(f"req-{i:06d}" for i in range(20))


def test_a_gzip_cut_short_keeps_the_rows_before_the_cut(tmp_path: Path) -> None:
    data = gzip.compress(b"".join(_line(i) + b"\n" for i in range(2000)))
    source = tmp_path / "cut.jsonl.gz"
    source.write_bytes(data[: len(data) // 2])
    summary = ingest([source], tmp_path / "lake")
    assert summary.kept > 500
    assert summary.read == summary.kept + summary.quarantined
    [entry] = quarantine_entries(tmp_path / "lake")
    assert "cut short after line" in str(entry["reason"])
    assert sorted(lake_ids(tmp_path / "lake")) == [f"req-{i:06d}" for i in range(summary.kept)]


def test_out_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [exchange_row(1)])
    (tmp_path / "file").write_text("x")
    for command in ("ingest", "detect"):
        error = one_line_error(run_cli(command, source, "--out", tmp_path / "file"))
        assert "is a file" in error


def test_binary_mapping_is_one_line(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [exchange_row(1)])
    (tmp_path / "map.yaml").write_bytes(bytes(range(256)))
    error = one_line_error(
        run_cli("ingest", source, "--out", tmp_path / "lake", "--mapping", tmp_path / "map.yaml")
    )
    assert "cannot read mapping" in error


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.ENOSPC, "no space left on device"), (errno.EROFS, "read-only file system")],
    ids=["full-disk", "read-only-lake"],
)
def test_filesystem_failures_are_one_line_and_leave_the_lake_as_it_was(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    code: int,
    words: str,
) -> None:
    """The disk fills (or turns read-only) while the run stages its rows: the kernel's
    error is raised where Parquet is written, as it would be (root ignores chmod, so a
    real read-only folder cannot be made here)."""
    lake = tmp_path / "lake"
    ingest([write_jsonl(tmp_path / "old.jsonl", [exchange_row(i) for i in range(5)])], lake)

    def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError(code, os.strerror(code), str(lake))

    monkeypatch.setattr("distillguard.ingest.chunks.write_staged", fail)
    source = write_jsonl(tmp_path / "new.jsonl", [exchange_row(i) for i in range(5, 50)])
    assert main(["ingest", str(source), "--out", str(lake)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err
    assert sorted(lake_ids(lake)) == [f"req-{i:06d}" for i in range(5)]
    assert not [p for p in (lake / "_staging").iterdir() if p.is_dir()]


def test_a_lake_another_run_is_writing_is_refused(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    held = lock.RunLock(lake / "_staging" / ".lock", "lake")
    try:
        source = write_jsonl(tmp_path / "in.jsonl", [exchange_row(1)])
        error = one_line_error(run_cli("ingest", source, "--out", lake))
        assert "in use by another run" in error
    finally:
        held.release()


def test_detect_mentions_quarantined_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows: list[object] = [exchange_row(i) for i in range(30)] + [b"{not json", _with_huge_asn(99)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    assert main(["detect", str(source), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "2 exchange row(s) quarantined" in " ".join(out.split())
    assert str(tmp_path / "out" / "lake" / "quarantine.jsonl") in "".join(out.split())


def test_detect_counts_quarantined_account_rows_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'1 input rows quarantined' where the quarantine held five: four account rows."""
    source = write_jsonl(tmp_path / "in.jsonl", [exchange_row(i) for i in range(30)] + [b"{x"])
    accounts = write_jsonl(tmp_path / "acc.jsonl", [{"tier": "free"}] * 4)
    argv = ["detect", str(source), "--accounts", str(accounts), "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "1 exchange row(s) and 4 account row(s) quarantined" in out


def test_detect_refuses_an_out_it_would_damage(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ingest([write_jsonl(tmp_path / "in.jsonl", [exchange_row(i) for i in range(5)])], lake)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert "holds the input" in one_line_error(run_cli("detect", lake, "--out", tmp_path))
    assert "did not write" in one_line_error(run_cli("detect", lake, "--out", tmp_path / "mine"))
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


@pytest.fixture(scope="module")
def detected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("evaluate")
    rows = [exchange_row(i) for i in range(60)]
    assert (
        main(["detect", str(write_jsonl(base / "in.jsonl", rows)), "--out", str(base / "out")]) == 0
    )
    labels = [
        {
            "account_id": f"acct-{i}",
            "label": "attack" if i < 3 else "benign",
            "campaign": "c" if i < 3 else None,
            "population": "p",
        }
        for i in range(17)
    ]
    write_jsonl(base / "labels.jsonl", labels)
    assert main(["evaluate", str(base / "out"), "--labels", str(base / "labels.jsonl")]) == 0
    return base


@pytest.mark.parametrize(
    ("labels", "words"),
    [
        (
            [{"account_id": "other-1", "label": "attack", "campaign": "c", "population": "p"}],
            "share no account",
        ),
        (
            [{"account_id": "acct-1", "label": "evil", "campaign": "c", "population": "p"}],
            "unknown label value(s) evil",
        ),
        (
            [{"account_id": "acct-1", "campaign": "c", "population": "p"}],
            "lack the column(s) label",
        ),
        (
            [{"account_id": "acct-1", "label": True, "campaign": "c", "population": "p"}],
            "hold BOOLEAN labels: each must be the text attack or benign",
        ),
        (  # read as the text "1", as a run's ids are: no conversion error
            [{"account_id": 1, "label": "attack", "campaign": "c", "population": "p"}],
            "share no account",
        ),
        (  # DuckDB's own message named line 3
            [
                {"account_id": "acct-1", "label": "attack", "campaign": "c", "population": "p"},
                b"not json",
            ],
            "line 2 is not JSON",
        ),
    ],
    ids=["another-run", "unknown-value", "no-label-column", "true-false", "numeric-ids", "text"],
)
def test_evaluate_refuses_wrong_labels_and_keeps_the_metrics(
    detected: Path, tmp_path: Path, labels: list[dict[str, object] | bytes], words: str
) -> None:
    before = {
        name: (detected / "out" / name).read_bytes() for name in ("metrics.json", "metrics.md")
    }
    wrong = write_jsonl(tmp_path / "labels.jsonl", labels)
    error = one_line_error(run_cli("evaluate", detected / "out", "--labels", wrong))
    assert words in error
    after = {name: (detected / "out" / name).read_bytes() for name in before}
    assert after == before


def test_stale_staging_from_a_dead_run_is_removed(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ingest([write_jsonl(tmp_path / "a.jsonl", [exchange_row(i) for i in range(5)])], lake)
    dead = lake / "_staging" / "0123456789ab" / "date=2026-02-10"
    dead.mkdir(parents=True)
    shutil.copy(next(Lake(lake).exchanges_dir.glob("*/*.parquet")), dead / "part-00000000.parquet")
    ingest([write_jsonl(tmp_path / "b.jsonl", [exchange_row(9)])], lake)
    assert not [p for p in (lake / "_staging").iterdir() if p.is_dir()]
    assert len(lake_ids(lake)) == 6


def test_a_lake_damaged_by_an_earlier_version_reads_again(tmp_path: Path) -> None:
    """What main's kill -9 mid-merge left: a 0-byte part file inside exchanges/. `lake`
    says so in one line; the next ingest sets it aside and takes its rows back."""
    lake = tmp_path / "lake"
    source = write_jsonl(tmp_path / "in.jsonl", [exchange_row(i) for i in range(9)])
    ingest([source], lake)
    victim = next(Lake(lake).exchanges_dir.glob("*/*.parquet"))
    victim.write_bytes(b"")
    error = one_line_error(run_cli("lake", lake))
    assert "not whole Parquet" in error and victim.name in error
    summary = ingest([source], lake)
    assert summary.kept == 3  # the rows of the damaged file, back
    assert sorted(lake_ids(lake)) == [f"req-{i:06d}" for i in range(9)]
    assert (lake / "_damaged" / victim.relative_to(lake)).exists()


def test_detect_and_lake_say_while_damaged_parts_are_set_aside(tmp_path: Path) -> None:
    """detect set a damaged part aside and reported on the rest without a word; `lake` then
    stopped mentioning it."""
    lake = tmp_path / "lake"
    ingest([write_jsonl(tmp_path / "in.jsonl", [exchange_row(i) for i in range(9)])], lake)
    next(Lake(lake).exchanges_dir.glob("*/*.parquet")).write_bytes(b"PAR1 cut short")
    summary = detect([lake], tmp_path / "out")
    assert summary.exchanges < 9 and "1 damaged part file(s) set aside" in summary.line()
    shown = run_cli("lake", lake)
    assert shown.returncode == 0 and "damaged part file(s) set aside" in shown.stdout


def test_a_real_write_failure_is_one_line_and_leaves_the_lake_as_it_was(tmp_path: Path) -> None:
    """The kernel refuses a write for real: RLIMIT_FSIZE makes it fail with EFBIG, as a full
    disk fails with ENOSPC, deep inside pyarrow, in the middle of the run."""
    lake = tmp_path / "lake"
    ingest([write_jsonl(tmp_path / "old.jsonl", [exchange_row(i) for i in range(5)])], lake)
    rows = [exchange_row(i, output_text=os.urandom(600).hex()) for i in range(5, 305)]
    source = write_jsonl(tmp_path / "new.jsonl", rows)
    code = (
        "import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (50000, 50000));"
        f" sys.argv = ['distillguard', 'ingest', {str(source)!r}, '--out', {str(lake)!r}];"
        " runpy.run_module('distillguard.cli.main', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=240
    )
    assert "File too large" in one_line_error(result)
    assert sorted(lake_ids(lake)) == [f"req-{i:06d}" for i in range(5)]
    assert not [p for p in (lake / "_staging").iterdir() if p.is_dir()]


def test_detect_on_an_unreadable_file_names_it_and_keeps_the_old_output(tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", [exchange_row(i) for i in range(10)])
    assert main(["detect", str(good), "--out", str(tmp_path / "out")]) == 0
    before = (tmp_path / "out" / "accounts.csv").read_bytes()
    (tmp_path / "bad.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    result = run_cli("detect", good, tmp_path / "bad.jsonl.gz", "--out", tmp_path / "out")
    error = one_line_error(result)
    assert "detect did not run" in error and "bad.jsonl.gz" in error
    assert (tmp_path / "out" / "accounts.csv").read_bytes() == before


BOMS = [("bom.jsonl", b""), ("bom.jsonl.gz", b""), ("bom.json", b"\n"), ("bom.json", b"\r\n")]


@pytest.mark.parametrize(("name", "blank"), BOMS)
def test_a_byte_order_mark_before_the_first_row_is_not_part_of_it(
    tmp_path: Path, name: str, blank: bytes
) -> None:
    """Windows tools often start a UTF-8 file with a BOM; it quarantined the first row, and
    a BOM alone on a first line made a .json file of rows read as a JSON document."""
    data = b"\xef\xbb\xbf" + blank + b"\n".join(_line(i) for i in range(3)) + b"\n"
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    summary = ingest([path], tmp_path / "lake")
    assert (summary.read, summary.kept, summary.quarantined) == (3, 3, 0)


def test_a_record_too_deep_to_write_back_is_still_quarantined() -> None:
    """An adapter's bad record is written back from its parsed value; past orjson's depth
    that raised out of ingest (a traceback, nothing ingested)."""
    deep: object = 1
    for _ in range(300):
        deep = {"a": deep}
    row = bad_row(RawRecord("in.jsonl", 7, deep), "not a LiteLLM payload")
    assert (row.line, row.raw) == (7, TOO_DEEP_TO_WRITE)
