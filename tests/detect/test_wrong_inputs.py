"""Inputs that are not logs: one line, and nothing published (an empty run would close
every open finding of the run before it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from distillguard.cli.main import main
from distillguard.detect.summary import DetectSummary


def test_a_detect_output_given_as_input_is_one_line(
    tiny_detect: DetectSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "again"
    assert main(["detect", str(tiny_detect.out), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is a detect output, not a lake" in err and err.count("\n") == 1
    assert not out.exists()


def test_input_without_one_exchange_publishes_nothing(
    tiny_detect: DetectSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"account_id": "a1", "label": "attack"}\n' * 3)
    out = tmp_path / "run"
    argv = ["detect", str(labels), "--out", str(out), "--previous", str(tiny_detect.out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "none of the 3 rows" in err and err.count("\n") == 1
    assert not out.exists()


def test_an_empty_folder_is_one_line_not_a_run_of_nothing(
    tiny_detect: DetectSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It ran and said '0 exchanges', exit 0: a run that would close every open finding
    of the run before it, for a path mistyped or a folder not yet written to."""
    empty, out = tmp_path / "empty", tmp_path / "run"
    empty.mkdir()
    argv = ["detect", str(empty), "--out", str(out), "--previous", str(tiny_detect.out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "holds no log file and is not a lake" in err and err.count("\n") == 1
    assert not out.exists()


def test_a_lake_named_by_its_file_uri_inside_out_is_refused(
    tiny_lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """detect replaces --out whole: a lake inside it, named by file:// URI, was deleted
    with exit 0 where the same lake named by its path was refused."""
    out = tmp_path / "d"
    shutil.copytree(tiny_lake, out / "lake")
    (out / "detect.json").write_text("{}")  # a detect output, as detect LOGS --out d leaves
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    for given in (str(out / "lake"), (out / "lake").as_uri()):
        assert main(["detect", given, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "holds the input" in err and err.count("\n") == 1, given
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


# (case, argv after 'detect' or as a whole, what the one line says)
MISTAKES = [
    ("--accounts beside a lake", ["detect", "{lake}", "--accounts", "{lake}/x.parquet"],
     "--accounts is for log files"),
    ("a file URI naming a host", ["detect", "file://lake", "--out", "{tmp}/o"],
     "names the host 'lake'"),
    ("ingest into a detect output", ["ingest", "{tmp}/x.jsonl", "--out", "{detect}"],
     "is a detect output folder"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "argv", "message"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_inputs_that_would_be_ignored_or_lost_are_one_line(  # noqa: PLR0917
    tiny_lake: Path,
    tiny_detect: DetectSummary,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    argv: list[str],
    message: str,
) -> None:
    (tmp_path / "x.jsonl").write_text("{}\n")
    where = {"lake": tiny_lake, "tmp": tmp_path, "detect": tiny_detect.out}
    args = [a.format(**where) for a in argv]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "o")]
    assert main(args) == 2, case
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_lake_reads_a_file_uri(tiny_lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Path() made file:///x of file:/x, and lake said there was no lake there."""
    assert main(["lake", tiny_lake.resolve().as_uri(), "--json"]) == 0
    assert '"exchanges":' in capsys.readouterr().out
