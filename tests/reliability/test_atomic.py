"""The atomic-write helpers on their own: both ways of replacing a folder, and recovery
from a crash between the fallback's two renames."""

from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.detect import folder
from distillguard.store import atomic


def _folder(path: Path, text: str) -> Path:
    path.mkdir()
    (path / "report.html").write_text(text)
    return path


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_replace_dir_puts_the_new_folder_in_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    if not exchange:
        monkeypatch.setattr(atomic, "_renameat2_exchange", lambda _a, _b: False)
    target = _folder(tmp_path / "out", "old")
    atomic.replace_dir(_folder(tmp_path / ".out.partial-1", "new"), target)
    assert (target / "report.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_crash_between_the_two_renames_is_finished_by_recovery(tmp_path: Path) -> None:
    target = _folder(tmp_path / "out", "old")
    staging = _folder(tmp_path / ".out.partial-1", "new")
    (staging / folder.RECORD).write_text("{}")  # complete
    target.rename(atomic.old_sibling(staging))  # the first rename, then the crash
    folder.recover(target)
    assert (target / "report.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_incomplete_sibling_is_dropped_and_the_old_folder_kept(tmp_path: Path) -> None:
    target = _folder(tmp_path / "out", "old")
    _folder(tmp_path / ".out.partial-1", "half")  # no record: killed while writing
    folder.recover(target)
    assert (target / "report.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_written_aside_leaves_nothing_when_the_writer_fails(tmp_path: Path) -> None:
    target = tmp_path / "a.parquet"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic.written_aside(target) as temp:
        temp.write_text("half")
        raise RuntimeError
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.parquet"]
