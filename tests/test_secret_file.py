"""Secrets written owner-only, new or replaced, and never half-written over the old."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from distillguard.secret_file import write_private


def test_a_replaced_file_is_owner_only_and_nothing_is_left_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, b"new")
    assert (path.read_bytes(), stat.S_IMODE(path.stat().st_mode)) == (b"new", 0o600)
    assert [p.name for p in tmp_path.iterdir()] == ["users.json"]


def test_a_failed_write_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Narrowing the old file in place emptied it first, then could fail (another user's
    file): every user's hash lost. The new text goes beside it and is renamed over it."""
    path = tmp_path / "users.json"
    path.write_text("every user's hash")

    def refused(src: object, dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(PermissionError):
        write_private(path, b"new")
    assert path.read_text() == "every user's hash"
    assert [p.name for p in tmp_path.iterdir()] == ["users.json"]
