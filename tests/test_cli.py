"""The command line: summaries on success, one-line errors (never tracebacks) on mistakes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from distillguard.cli.main import main
from tests.conftest import write_jsonl
from tests.samples import exchange_row


def test_ingest_and_lake_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [exchange_row(i) for i in range(10)] + [b"{bad"])
    assert main(["ingest", str(source), "--out", str(tmp_path / "lake")]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("ingest: 1 file(s), read 11, kept 10, duplicates 0, quarantined 1")
    assert main(["lake", str(tmp_path / "lake")]) == 0
    out = capsys.readouterr().out
    assert "exchanges" in out and "10" in out and "quarantined rows" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ingest", "missing.jsonl", "--out", "lake"], "no such file or directory"),
        (["ingest", "x.jsonl", "--out", "lake", "--format", "nope"], "valid names"),
        (["ingest", "x.jsonl"], "required: --out"),
        (["frobnicate"], "invalid choice"),
        (["lake", "no-such-lake"], "no lake at"),
        (["ingest", "x.jsonl", "--out", "l", "--mapping", "missing.yaml"], "cannot read mapping"),
    ],
)
def test_user_errors_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.jsonl").write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "distillguard.cli.main", *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
