"""Crashes: SIGKILL at every step of ingest and detect, then the checks that matter.

Each run is killed at a named crash point (distillguard/faults.py), exactly as the OOM
killer or a power cut would: no `finally`, no cleanup. After the kill the lake (or the
output folder) must still read as before, and after one more run the lake holds every
unique request id exactly once and detect's outputs equal those of a run never killed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from distillguard.detect.run import detect
from distillguard.faults import ENV
from distillguard.ingest import Lake, ingest
from distillguard.ingest.pipeline import finish_interrupted
from distillguard.ingest.summary import summarize_lake
from tests.conftest import write_jsonl
from tests.reliability.helpers import (
    KILLED,
    lake_ids,
    processes_in_session,
    quarantine_entries,
    run_cli,
)
from tests.samples import exchange_row

FIRST = range(0, 200)
SECOND = range(100, 400)  # overlaps FIRST, so the merge must rewrite files to drop ids


def _second_batch(folder: Path) -> tuple[Path, Path]:
    rows: list[object] = [exchange_row(i, account_id=f"acct-{i % 23}") for i in SECOND]
    rows += [exchange_row(i) for i in range(300, 320)]  # re-delivered within the file
    rows.insert(50, b"{not json")
    accounts = [{"account_id": f"acct-{i}", "tier": "free"} for i in range(23)]
    return write_jsonl(folder / "second.jsonl", rows), write_jsonl(folder / "acc.jsonl", accounts)


@pytest.fixture(scope="module")
def first_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("first")
    rows = [exchange_row(i, account_id=f"acct-{i % 23}") for i in FIRST]
    ingest([write_jsonl(base / "first.jsonl", rows)], base / "lake")
    return base / "lake"


INGEST_POINTS = [
    "ingest.chunk",  # rows staged, nothing merged
    "ingest.staged",  # quarantine written, merge not started
    "ingest.rewritten",  # mid-merge: a file rewritten without its duplicates
    "ingest.committed",  # commit record published, no file moved yet
    "ingest.moved:1",  # mid-commit: one file moved into the lake
    "ingest.moved:2",
    "accounts.written",  # exchanges committed, accounts table written aside
]


@pytest.mark.parametrize("point", INGEST_POINTS)
def test_ingest_killed_at_any_step(first_lake: Path, tmp_path: Path, point: str) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(first_lake, lake)
    source, accounts = _second_batch(tmp_path)
    killed = run_cli("ingest", source, "--accounts", accounts, "--out", lake, crash_at=point)
    assert killed.returncode == KILLED, killed.stderr
    after_kill = lake_ids(lake)  # readable, every file whole, no id twice
    assert len(after_kill) == len(set(after_kill))
    assert set(after_kill) <= {f"req-{i:06d}" for i in range(400)}
    assert summarize_lake(Lake(lake)).exchanges == len(after_kill)
    again = ingest([source], lake, [accounts])
    assert sorted(lake_ids(lake)) == [f"req-{i:06d}" for i in range(400)]
    assert again.read == again.kept + again.duplicates + again.quarantined
    entries = quarantine_entries(lake)
    assert len(entries) == 1 and entries[0]["line"] == 51
    assert not [p for p in (lake / "_staging").iterdir() if p.is_dir()]
    assert Lake(lake).accounts_path.exists()
    assert not list(Lake(lake).accounts_path.parent.glob(".*"))


OUTPUTS = ("accounts.csv", "clusters.csv", "findings.ocsf.jsonl", "accounts.parquet")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def reference(first_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """detect on the lake, never interrupted."""
    out = tmp_path_factory.mktemp("reference") / "out"
    detect([first_lake], out)
    return out


DETECT_POINTS = ["detect.signals", "detect.tables", "detect.complete", "ingest.committed"]


@pytest.mark.parametrize("point", DETECT_POINTS)
def test_detect_killed_at_any_step(
    first_lake: Path, reference: Path, tmp_path: Path, point: str
) -> None:
    out = tmp_path / "out"
    previous = tmp_path / "previous.jsonl"  # an earlier run's output, on other data
    detect([write_jsonl(previous, [exchange_row(i) for i in range(40)])], out)
    before = _files(out)
    source = first_lake if point.startswith("detect") else _raw_copy(tmp_path)
    killed = run_cli("detect", source, "--out", out, crash_at=point)
    assert killed.returncode == KILLED, killed.stderr
    assert _files(out) == before  # the old report and tables, whole, beside the old signals
    detect([source], out)
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name
    assert not list(tmp_path.glob(".out.*"))


def _raw_copy(folder: Path) -> Path:
    """The lake's exchanges as a JSONL file, for detect on log files (it ingests them)."""
    rows = [exchange_row(i, account_id=f"acct-{i % 23}") for i in FIRST]
    return write_jsonl(folder / "raw.jsonl", rows)


WORKERS = {
    "ingest.chunk": """
from pathlib import Path
from distillguard.ingest import ingest, sources
sources.CHUNK_BYTES = 4096
ingest([Path({source!r})], Path({folder!r}) / "lake2", workers=2)
""",
    "detect.signals": """
from pathlib import Path
from distillguard.detect.signals_stage import signals_to_parquet
from distillguard.ingest import Lake
signals_to_parquet(Lake(Path({lake!r})), Path({folder!r}) / "signals", workers=2)
""",
}


@pytest.mark.parametrize("point", sorted(WORKERS))
def test_workers_die_with_their_parent(first_lake: Path, tmp_path: Path, point: str) -> None:
    source, _ = _second_batch(tmp_path)
    code = WORKERS[point].format(source=str(source), folder=str(tmp_path), lake=str(first_lake))
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        env={**_env(), ENV: point},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert process.wait(timeout=240) == KILLED
    assert _session_ends(process.pid)


def _session_ends(session: int, seconds: float = 15) -> bool:
    """Whether every process of the session is gone within `seconds` (killed processes
    take a moment to be reaped, and the fork server to notice its parent has gone)."""
    deadline = time.monotonic() + seconds
    while processes_in_session(session) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not processes_in_session(session)


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != ENV}


def test_detect_finishes_the_commit_of_a_killed_ingest(first_lake: Path, tmp_path: Path) -> None:
    """A lake left mid-commit holds part of a run; detect carries the commit out first,
    so it reads the run whole rather than half of it."""
    lake = tmp_path / "lake"
    shutil.copytree(first_lake, lake)
    source, _ = _second_batch(tmp_path)
    assert run_cli("ingest", source, "--out", lake, crash_at="ingest.moved:1").returncode == KILLED
    assert len(lake_ids(lake)) < 400  # half committed
    summary = detect([lake], tmp_path / "out")
    assert summary.exchanges == 400
    assert sorted(lake_ids(lake)) == [f"req-{i:06d}" for i in range(400)]


def test_an_exit_mid_commit_leaves_the_commit_to_finish(
    first_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM (SystemExit) between two moves unwinds through `finally`; the staging with
    its commit record must survive that unwinding, or the run's other files are lost."""
    lake = tmp_path / "lake"
    shutil.copytree(first_lake, lake)
    source, _ = _second_batch(tmp_path)

    def stop(name: str) -> None:
        if name == "ingest.moved":
            raise SystemExit(143)

    monkeypatch.setattr("distillguard.ingest.lake.crash_point", stop)
    with pytest.raises(SystemExit):
        ingest([source], lake)
    assert len(lake_ids(lake)) < 400
    monkeypatch.undo()
    assert finish_interrupted(Lake(lake)) == 1  # the commit alone, without the input again
    assert sorted(lake_ids(lake)) == [f"req-{i:06d}" for i in range(400)]


def test_sigterm_stops_workers_and_removes_the_staging(tmp_path: Path) -> None:
    rows = [exchange_row(i) for i in range(3000)]
    source = write_jsonl(tmp_path / "big.jsonl", rows)
    lake = tmp_path / "lake"
    code = f"""
from pathlib import Path
from distillguard.ingest import ingest, sources
from distillguard.workers import terminate_on_sigterm
sources.CHUNK_BYTES = 4096
with terminate_on_sigterm():
    ingest([Path({str(source)!r})], Path({str(lake)!r}), workers=2)
"""
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    deadline = time.monotonic() + 120
    while not list(lake.glob("_staging/*/date=*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.terminate()
    assert process.wait(timeout=120) == 143  # SystemExit(128 + SIGTERM): it unwound
    assert _session_ends(process.pid)
    assert not [p for p in (lake / "_staging").iterdir() if p.is_dir()]
    assert lake_ids(lake) == []
