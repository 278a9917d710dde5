"""A folder `distillguard simulate` wrote, given to ingest or detect as a whole: its accounts
table is read as accounts, never as exchanges, and its labels are never read."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from distillguard.detect.run import detect
from distillguard.errors import UserError
from distillguard.ingest import ingest
from distillguard.ingest.inputs import expand_inputs, simulated_parts
from distillguard.simulate import simulate
from tests.conftest import write_jsonl
from tests.samples import exchange_row
from tests.simulate.conftest import TINY


@pytest.mark.parametrize(
    ("names", "parts"),
    [
        (["exchanges.parquet", "accounts.parquet", "labels.parquet"], {"accounts", "labels"}),
        (["exchanges.jsonl.gz", "accounts.jsonl.gz", "labels.jsonl.gz"], {"accounts", "labels"}),
        (["exchanges.parquet", "accounts.parquet"], {"accounts"}),
        (["exchanges.parquet", "labels.parquet"], set()),  # no accounts: not simulate's
        (["exchanges.parquet", "accounts.jsonl.gz"], set()),  # kinds differ
        (["accounts.parquet", "labels.parquet"], set()),  # no log beside them
        (["day-1.parquet", "day-2.parquet"], set()),
    ],
)
def test_a_simulated_folder_is_known_by_its_tables(
    tmp_path: Path, names: list[str], parts: set[str]
) -> None:
    for name in names:
        (tmp_path / name).write_bytes(b"")
    found = simulated_parts(tmp_path)
    assert set(found) == parts
    assert all(found[p].parent == tmp_path and found[p].name.startswith(p) for p in parts)


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_a_simulated_folder_ingests_its_log_and_accounts_only(tmp_path: Path, fmt: str) -> None:
    preset = tmp_path / "tiny.yaml"
    preset.write_text(TINY)
    sim = simulate(str(preset), tmp_path / "sim", seed=3, fmt=fmt)
    exchanges, accounts, labels = sim.files
    inputs = expand_inputs([tmp_path / "sim"])
    assert inputs.files == [exchanges] and inputs.accounts == [accounts]
    assert any(str(labels) in s and "never read" in s for s in inputs.skipped)
    # --accounts naming the same table, or its folder, reads it once
    for n, given in enumerate(([], [accounts], [tmp_path / "sim"])):
        lake = tmp_path / f"lake-{n}"
        summary = ingest([tmp_path / "sim"], lake, given)
        assert summary.quarantined == 0 and summary.files == 1
        assert summary.accounts_read == summary.accounts_in_lake > 0
        in_lake = pq.read_table(lake / "accounts" / "accounts.parquet")
        assert "label" not in in_lake.column_names
        assert "never read" in summary.line()
    # the folder as --accounts beside its log given as a file: its accounts table alone
    summary = ingest([exchanges], tmp_path / "lake-file", [tmp_path / "sim"])
    assert summary.accounts_quarantined == 0 and summary.accounts_read > 0


def test_detect_says_what_it_read_of_a_simulated_folder(tmp_path: Path) -> None:
    preset = tmp_path / "tiny.yaml"
    preset.write_text(TINY)
    simulate(str(preset), tmp_path / "sim", seed=3)
    summary = detect([tmp_path / "sim"], tmp_path / "out")
    assert summary.ingested is not None and summary.ingested.quarantined == 0
    assert summary.ingested.accounts_in_lake > 0
    line = summary.line()
    assert "read as the accounts table" in line and "labels: never read" in line


def test_a_folder_holding_two_simulated_worlds_is_refused(tmp_path: Path) -> None:
    """simulate run twice into one folder with the other --format: read together, the two
    worlds would mix in one lake, and each one's labels would be read as the other's logs."""
    for ext in (".parquet", ".jsonl.gz"):
        for name in ("exchanges", "accounts", "labels"):
            (tmp_path / f"{name}{ext}").write_bytes(b"")
    with pytest.raises(UserError, match="two simulated worlds"):
        expand_inputs([tmp_path])


def test_a_lake_inside_the_input_folder_is_not_read_as_logs(tmp_path: Path) -> None:
    """`ingest logs/ --out logs/lake` run again read its own parts and quarantine."""
    logs = tmp_path / "logs"
    logs.mkdir()
    write_jsonl(logs / "day.jsonl", [exchange_row(i) for i in range(3)] + [b"{bad"])
    for _ in range(2):
        summary = ingest([logs], logs / "lake")
    assert (summary.read, summary.duplicates, summary.quarantined) == (4, 3, 1)
    assert summary.skipped == (f"{logs / 'lake'}/ (a lake, not logs)",)
    assert len((logs / "lake" / "quarantine.jsonl").read_text().splitlines()) == 1
    with pytest.raises(UserError, match="is a lake, not logs"):
        expand_inputs([logs / "lake"])


def test_a_log_export_with_exchanges_and_accounts_folders_is_read(tmp_path: Path) -> None:
    """A folder may be named exchanges/ without being a lake: only a lake's own marks (its
    lock, a day partition, its accounts table) make one."""
    tenant = tmp_path / "export" / "tenantA"
    (tenant / "exchanges").mkdir(parents=True)
    (tenant / "accounts").mkdir()
    write_jsonl(tenant / "exchanges" / "day1.jsonl", [exchange_row(i) for i in range(3)])
    summary = ingest([tmp_path / "export"], tmp_path / "lake")
    assert (summary.kept, summary.skipped) == (3, ())
