"""The gateway's exchange log: whole files only, rotated by rows and by age."""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from distillguard.gateway.exchange_log import ExchangeLog


def rows(n: int) -> list[dict[str, object]]:
    return [{"request_id": f"r{i}", "ts": "2026-02-02T10:00:00Z", "account_id": "a", "model": "m",
             "messages": [{"role": "user", "content": "hi"}]} for i in range(n)]  # fmt: skip


def read(directory: Path) -> list[bytes]:
    return [line for p in sorted(directory.glob("*.jsonl")) for line in p.read_bytes().splitlines()]


def test_many_equals_one_by_one_and_rotates_by_rows(tmp_path: Path) -> None:
    many, one = (
        ExchangeLog(tmp_path / "many", max_rows=4),
        ExchangeLog(tmp_path / "one", max_rows=4),
    )
    many.write_many(rows(4))
    many.write_many(rows(6)[4:])
    for row in rows(6):
        one.write_one(row)
    assert len(list((tmp_path / "one").glob("*.jsonl"))) == 1  # 4 rows: one whole file
    assert len(list((tmp_path / "one").glob("*.partial"))) == 1  # 2 rows still being written
    many.close()
    one.close()
    assert read(tmp_path / "many") == read(tmp_path / "one")
    assert [orjson.loads(r)["request_id"] for r in read(tmp_path / "one")] == [
        f"r{i}" for i in range(6)
    ]
    assert not list((tmp_path / "one").glob("*.partial"))


def test_rotates_by_age(tmp_path: Path) -> None:
    log = ExchangeLog(tmp_path, max_age_s=0.05)
    log.write_one(rows(1)[0])
    log.rotate_if_due()
    assert not list(tmp_path.glob("*.jsonl"))
    time.sleep(0.06)
    log.rotate_if_due()
    assert len(read(tmp_path)) == 1 and log.rows_written == 1
