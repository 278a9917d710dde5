"""Ingest end to end on real files: dedup, quarantine, formats, and the lake's layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distillguard.cli.main import main
from distillguard.errors import UserError
from distillguard.ingest import Lake, ingest, sources
from distillguard.schema import EXCHANGES_SCHEMA
from tests.conftest import query, write_jsonl
from tests.samples import exchange_row, litellm_payload

BAD_LINES = [
    b"{this is not json",
    orjson.dumps(exchange_row(9001, request_id=None)),
    orjson.dumps(exchange_row(9002, asn="not-a-number")),
    orjson.dumps(exchange_row(9003, ts="10/02/2026 13:45")),
    orjson.dumps([1, 2, 3]),
]


def _count(lake: Path) -> int:
    table = Lake(lake).exchanges_sql()
    [(rows, ids)] = query(f"SELECT count(*), count(DISTINCT request_id) FROM {table}")
    assert rows == ids, "the lake holds a request_id twice"
    return int(rows)


def _quarantine(lake: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in Lake(lake).quarantine_path.read_bytes().splitlines()]


def _issue_file(path: Path) -> Path:
    """2,000 valid rows, 100 of them re-delivered later in the file, and 5 bad rows."""
    rows: list[object] = [exchange_row(i) for i in range(2000)]
    rows[500:500] = BAD_LINES
    rows += [exchange_row(i) for i in range(0, 2000, 20)]
    return write_jsonl(path, rows)


@pytest.mark.parametrize("workers", [1, 2])
def test_redelivered_and_bad_rows(tmp_path: Path, workers: int) -> None:
    source = _issue_file(tmp_path / "in.jsonl")
    lake = tmp_path / "lake"
    first = ingest([source], lake, workers=workers)
    assert (first.read, first.kept, first.duplicates, first.quarantined) == (2105, 2000, 100, 5)
    again = ingest([source], lake, workers=workers)
    assert (again.read, again.kept, again.duplicates, again.quarantined) == (2105, 0, 2100, 5)
    assert again.quarantined_before == 5
    assert _count(lake) == 2000
    entries = _quarantine(lake)
    assert len(entries) == 5
    assert [e["line"] for e in entries] == [501, 502, 503, 504, 505]
    assert entries[0]["raw"] == "{this is not json"
    assert "invalid JSON" in str(entries[0]["reason"])
    assert "request_id" in str(entries[1]["reason"])


def test_line_numbers_hold_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "CHUNK_BYTES", 4096)
    source = _issue_file(tmp_path / "in.jsonl")
    summary = ingest([source], tmp_path / "lake", workers=2)
    assert (summary.kept, summary.quarantined) == (2000, 5)
    assert [e["line"] for e in _quarantine(tmp_path / "lake")] == [501, 502, 503, 504, 505]


def test_the_first_delivery_wins(tmp_path: Path) -> None:
    first = exchange_row(1, output_text="first")
    second = exchange_row(1, output_text="second")
    source = write_jsonl(tmp_path / "in.jsonl", [first, second])
    ingest([source], tmp_path / "lake")
    texts = query(f"SELECT output_text FROM {Lake(tmp_path / 'lake').exchanges_sql()}")
    assert texts == [("first",)]


def test_later_files_add_only_new_exchanges(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ingest([write_jsonl(tmp_path / "a.jsonl", [exchange_row(i) for i in range(100)])], lake)
    later = write_jsonl(tmp_path / "b.jsonl", [exchange_row(i) for i in range(50, 150)])
    summary = ingest([later], lake)
    assert (summary.kept, summary.duplicates) == (50, 50)
    assert _count(lake) == 150


def test_gzip_parquet_and_directories(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    (inputs / "nested").mkdir(parents=True)
    write_jsonl(inputs / "a.jsonl.gz", [exchange_row(i) for i in range(30)])
    write_jsonl(inputs / "ignored.txt", [exchange_row(999)])
    plain = [
        exchange_row(i, messages=[{"role": "user", "content": f"q{i}"}]) for i in range(30, 60)
    ]
    table = pa.Table.from_pylist(plain)
    pq.write_table(table, inputs / "nested" / "b.parquet")
    summary = ingest([inputs], tmp_path / "lake")
    assert (summary.files, summary.kept, summary.quarantined) == (2, 60, 0)


def test_parquet_in_the_lakes_own_schema(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ingest([write_jsonl(tmp_path / "a.jsonl", [exchange_row(i) for i in range(40)])], lake)
    exported = tmp_path / "export.parquet"
    query(f"COPY (SELECT * EXCLUDE (date) FROM {Lake(lake).exchanges_sql()}) TO '{exported}'")
    summary = ingest([exported], tmp_path / "lake2")
    assert (summary.kept, summary.quarantined) == (40, 0)


def test_lake_layout_is_partitioned_by_day(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ingest([write_jsonl(tmp_path / "a.jsonl", [exchange_row(i) for i in range(9)])], lake)
    days = sorted(p.name for p in (lake / "exchanges").iterdir())
    assert days == ["date=2026-02-10", "date=2026-02-11", "date=2026-02-12"]
    schema = pq.read_schema(next((lake / "exchanges" / days[0]).glob("*.parquet")))
    assert schema.names == EXCHANGES_SCHEMA.names
    assert not [p for p in (lake / "_staging").iterdir() if p.is_dir()]  # only the lock


def test_accounts_are_upserted(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    events = write_jsonl(tmp_path / "e.jsonl", [exchange_row(1)])
    first = write_jsonl(
        tmp_path / "acc1.jsonl",
        [{"account_id": "a1", "tier": "free"}, {"account_id": "a2", "tier": "paid"}, {"tier": "x"}],
    )
    summary = ingest([events], lake, [first])
    assert (summary.accounts_read, summary.accounts_quarantined, summary.accounts_in_lake) == (
        3,
        1,
        2,
    )
    second = write_jsonl(tmp_path / "acc2.jsonl", [{"account_id": "a1", "tier": "enterprise"}])
    ingest([events], lake, [second])
    tiers = dict(
        pq.read_table(Lake(lake).accounts_path)
        .select(["account_id", "tier"])
        .to_pylist()[i]
        .values()
        for i in range(2)
    )
    assert tiers == {"a1": "enterprise", "a2": "paid"}


def test_a_partial_account_row_keeps_the_fields_it_leaves_out(tmp_path: Path) -> None:
    """A change feed's `{"account_id": "a1", "tier": "enterprise"}` wiped a1's card, sign-up
    time and address: the evidence linking reads."""
    lake, events = tmp_path / "lake", write_jsonl(tmp_path / "e.jsonl", [exchange_row(1)])
    full = {"account_id": "a1", "tier": "free", "payment_fingerprint": "card-9",
            "created_at": "2026-02-01T00:00:00Z", "signup_ip": "198.51.100.7"}  # fmt: skip
    ingest([events], lake, [write_jsonl(tmp_path / "a.jsonl", [full])])
    change = [{"account_id": "a1", "tier": "enterprise", "signup_ip": None}]
    ingest([events], lake, [write_jsonl(tmp_path / "b.jsonl", change)])
    [row] = pq.read_table(Lake(lake).accounts_path).to_pylist()
    assert (row["tier"], row["payment_fingerprint"], row["signup_ip"]) == (
        "enterprise", "card-9", "198.51.100.7")  # fmt: skip
    assert row["created_at"].isoformat() == "2026-02-01T00:00:00+00:00"


def test_user_mistakes_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        ingest([tmp_path / "missing.jsonl"], tmp_path / "lake")
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(UserError, match="unsupported file type"):
        ingest([tmp_path / "x.csv"], tmp_path / "lake")
    (tmp_path / "broken.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(UserError, match="cannot read"):
        ingest([tmp_path / "broken.jsonl.gz"], tmp_path / "lake")
    with pytest.raises(UserError, match="valid names"):
        ingest([tmp_path / "x.csv"], tmp_path / "lake", fmt="splunk")


def test_chunks_are_bounded_by_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "CHUNK_BYTES", 10_000)
    source = write_jsonl(tmp_path / "big.jsonl", [exchange_row(i) for i in range(500)])
    chunks = list(sources.iter_chunks(source))
    assert len(chunks) > 10
    for chunk in chunks:
        assert chunk.byte_range is not None
        start, end = chunk.byte_range
        assert end - start < 10_000 + 2_000  # one cut line at most past the bound
    total = sum(chunk.load()[1] for chunk in chunks)
    assert total == 500


def test_gzip_chunks_are_bounded_by_bytes_as_well_as_lines(tmp_path: Path) -> None:
    """Chunks of 20,000 lines whatever their length: 22 KB conversations held a gigabyte."""
    rows = [exchange_row(i, output_text="x" * 1000) for i in range(12)]
    path = write_jsonl(tmp_path / "long.jsonl.gz", rows)
    chunks = list(sources._gzip_chunks(path, chunk_lines=20_000, chunk_bytes=5_000))
    sizes = [chunk.line_count for chunk in chunks]
    assert sum(sizes) == 12 and max(sizes) <= 5 and len(chunks) >= 3
    assert ingest([path], tmp_path / "lake").kept == 12


def _quarantined(lake: Path) -> list[dict[str, object]]:
    return [orjson.loads(x) for x in (lake / "quarantine.jsonl").read_bytes().splitlines()]


def test_a_byte_that_is_not_utf8_is_kept_in_the_quarantine(tmp_path: Path) -> None:
    """A Latin-1 é was stored as U+FFFD: the line could not be recovered from there."""
    line = orjson.dumps(exchange_row(1)).replace(b"Question", b"Qu\xe9stion")
    (tmp_path / "latin1.jsonl").write_bytes(line + b"\n")
    summary = ingest([tmp_path / "latin1.jsonl"], tmp_path / "lake")
    assert (summary.kept, summary.quarantined) == (0, 1)
    [entry] = _quarantined(tmp_path / "lake")
    assert "Qu\\xe9stion" in str(entry["raw"]) and "\ufffd" not in str(entry["raw"])


def test_a_utf16_file_is_one_line_of_advice(tmp_path: Path) -> None:
    """It was read as bytes: 'invalid character (byte 0)' per line, and six lines read
    for five."""
    text = "\n".join(orjson.dumps(exchange_row(i)).decode() for i in range(5)) + "\n"
    (tmp_path / "wide.jsonl").write_bytes(text.encode("utf-16"))
    summary = ingest([tmp_path / "wide.jsonl"], tmp_path / "lake")
    assert (summary.read, summary.kept, summary.quarantined) == (1, 0, 1)
    [entry] = _quarantined(tmp_path / "lake")
    assert "UTF-16 or UTF-32 text, not UTF-8" in str(entry["reason"])


def test_a_gzip_file_named_jsonl_is_read_as_gzip(tmp_path: Path) -> None:
    rows = [exchange_row(i) for i in range(4)]
    packed = write_jsonl(tmp_path / "rows.jsonl.gz", rows).rename(tmp_path / "rows.jsonl")
    assert ingest([packed], tmp_path / "lake").kept == 4


def test_accounts_the_logs_declare_count_in_the_lake(tmp_path: Path) -> None:
    """A LiteLLM log declares its keys' teams: the accounts table they fill is the lake's,
    though no accounts file was given (the summary said 0 in lake)."""
    log = tmp_path / "litellm.jsonl"
    log.write_bytes(orjson.dumps(litellm_payload()) + b"\n")
    summary = ingest([log], tmp_path / "lake")
    assert summary.accounts_read == 0 and summary.accounts_in_lake == 1
    assert "; accounts: 1 in lake" in summary.line()


def test_a_folder_file_whose_rows_all_go_to_the_quarantine_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file of another shape in a folder of logs was a quiet success: its rows counted
    among the quarantined, no file named."""
    folder = tmp_path / "logs"
    folder.mkdir()
    write_jsonl(folder / "good.jsonl", [exchange_row(1), exchange_row(2)])
    other = write_jsonl(folder / "other.jsonl", [{"foo": 1}, {"foo": 2}, {"foo": 3}])
    one = write_jsonl(folder / "one.jsonl", [b"{not json"])
    assert main(["ingest", str(folder), "--out", str(tmp_path / "lake")]) == 0
    notes = capsys.readouterr().err.splitlines()
    assert notes == [
        f"ingest: note: the one row of {one.resolve()} was quarantined (reason: invalid JSON: "
        "JSON is malformed: object keys must be strings (byte 1))",  # no shape to advise on
        f"ingest: note: all 3 rows of {other.resolve()} were quarantined (first reason: Object "
        "missing required field `request_id`): not exchange-log v1 or a known log shape? "
        "see --format",
    ]


def test_one_file_wholly_quarantined_gets_the_runs_error_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = write_jsonl(tmp_path / "other.jsonl", [{"foo": 1}])
    assert main(["ingest", str(other), "--out", str(tmp_path / "lake")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none of the 1 rows read was kept" in err


def _detect_output(folder: Path) -> Path:
    folder.mkdir()
    (folder / "detect.json").write_text("{}")  # what makes a folder detect's
    (folder / "accounts.parquet").write_bytes(b"")
    return folder


def _simulated(folder: Path) -> Path:
    folder.mkdir()
    write_jsonl(folder / "exchanges.jsonl.gz", [exchange_row(1)])  # as simulate writes it
    write_jsonl(folder / "accounts.jsonl.gz", [{"account_id": "acct-1"}])
    write_jsonl(folder / "labels.jsonl.gz", [{"account_id": "acct-1", "label": "benign"}])
    return folder


@pytest.mark.parametrize(
    ("argv", "message"),
    [  # each took exit 0: a lake of nothing, or junk in the accounts table
        (lambda t: [str(t / "empty")], "no log file in"),
        (lambda t: [str(_detect_output(t / "det"))], "is a detect output, not logs"),
        (
            lambda t: [
                str(_simulated(t / "sim") / "exchanges.jsonl.gz"),
                "--accounts",
                str(t / "sim" / "labels.jsonl.gz"),
            ],
            "is the simulator's labels, not an accounts table",
        ),
        (
            lambda t: [
                str(_simulated(t / "sim") / "exchanges.jsonl.gz"),
                "--accounts",
                str(_detect_output(t / "det") / "accounts.parquet"),
            ],
            "is a detect output's table, not an accounts table",
        ),
        (
            lambda t: [
                str(write_jsonl(t / "log.jsonl", [exchange_row(1)])),
                "--accounts",
                str(write_jsonl(t / "acc.jsonl", [exchange_row(2), exchange_row(3)])),
            ],
            "none of the 2 rows of the --accounts table(s) was kept",
        ),
    ],
)
def test_ingest_refuses_what_is_not_logs_or_accounts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: Any, message: str
) -> None:
    (tmp_path / "empty").mkdir()
    lake = tmp_path / "lake"
    assert main(["ingest", *argv(tmp_path), "--out", str(lake)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
