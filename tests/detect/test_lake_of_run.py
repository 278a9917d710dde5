"""The lake a detect run read, for what reads its accounts' sign-up facts afterwards
(share export's payment indicators, verdicts publish's tiers)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distillguard.detect.case_files import RUN_FILE, lake_of_run
from distillguard.verdicts.publish import signup_tiers


def _run(out: Path, lake: str | None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / RUN_FILE).write_bytes(orjson.dumps({} if lake is None else {"lake": lake}))
    return out


@pytest.mark.parametrize(
    ("recorded", "found"),
    [
        ("{tmp}/elsewhere", "{tmp}/elsewhere"),  # detect LAKE --out OUT: no OUT/lake
        ("hdfs://nn/lake", "{tmp}/out/lake"),  # not on this machine
        ("{tmp}/gone", "{tmp}/out/lake"),  # moved since
        (None, "{tmp}/out/lake"),  # an older run.json
    ],
)
def test_the_lake_the_run_recorded_else_its_own(
    tmp_path: Path, recorded: str | None, found: str
) -> None:
    (tmp_path / "elsewhere").mkdir()
    out = _run(tmp_path / "out", recorded and recorded.format(tmp=tmp_path))
    assert lake_of_run(out) == Path(found.format(tmp=tmp_path))


def test_publish_reads_tiers_from_the_lake_the_run_read(tmp_path: Path) -> None:
    """Detect on a lake elsewhere: tiers were looked for in OUT/lake only, found nowhere,
    and tier rules (education sign-ups reverified first) never applied."""
    lake = tmp_path / "lake"
    (lake / "accounts").mkdir(parents=True)
    table = pa.table({"account_id": ["a1", "a2"], "tier": ["education", None]})
    pq.write_table(table, lake / "accounts" / "accounts.parquet")
    out = _run(tmp_path / "out", str(lake))
    assert signup_tiers(out, None) == {"a1": "education"}
