"""A key map read again when its file changes: keys rotate without a restart, and a
broken edit neither stops the gateway nor turns every customer away."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from distillguard.gateway.identity import KeyFile


def key_file(path: Path, text: str) -> KeyFile:
    path.write_text(text)
    keys = KeyFile(path)
    keys.CHECK_EVERY_S = 0.0  # every call checks: no sleeping in a test
    return keys


def rewrite(path: Path, text: str) -> None:
    """Write the file again with a later mtime, as an editor a second later would."""
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_an_added_and_a_revoked_key_apply_without_a_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "keys.yaml"
    keys = key_file(path, "sk-alice: alice\nsk-bob: bob\n")
    assert keys.current() == {"sk-alice": "alice", "sk-bob": "bob"}
    with caplog.at_level("INFO"):
        rewrite(path, "sk-alice: alice\nsk-carol: carol\n")
        assert keys.current() == {"sk-alice": "alice", "sk-carol": "carol"}
    assert "read again: 2 keys" in caplog.text and "sk-" not in caplog.text


def test_a_replaced_file_is_read_again(tmp_path: Path) -> None:
    """Editors and config managers write a new file and rename it over the old one."""
    path = tmp_path / "keys.yaml"
    keys = key_file(path, "sk-alice: alice\n")
    new = tmp_path / "keys.yaml.new"
    new.write_text("sk-dave: dave\n")
    os.replace(new, path)
    assert keys.current() == {"sk-dave": "dave"}


def test_a_broken_edit_keeps_the_keys_before_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "keys.yaml"
    keys = key_file(path, "sk-alice: alice\n")
    with caplog.at_level("INFO"):
        rewrite(path, "sk-alice: alice\nsk-eve: [not, an, account]\n")
        assert keys.current() == {"sk-alice": "alice"}
        assert keys.current() == {"sk-alice": "alice"}
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "entry 2 maps to" in errors[0]
    assert "still serving the 1 keys read before" in errors[0] and "sk-eve" not in errors[0]
    rewrite(path, "sk-alice: alice\nsk-eve: eve\n")
    assert keys.current() == {"sk-alice": "alice", "sk-eve": "eve"}


def test_a_removed_file_keeps_the_keys_and_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "keys.yaml"
    keys = key_file(path, "sk-alice: alice\n")
    path.unlink()
    with caplog.at_level("INFO"):
        assert keys.current() == keys.current() == {"sk-alice": "alice"}
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    path.write_text("sk-frank: frank\n")
    assert keys.current() == {"sk-frank": "frank"}


def test_the_file_is_checked_at_most_once_a_second(tmp_path: Path) -> None:
    """At 1,000 requests a second a stat per request would be a thousand syscalls."""
    path = tmp_path / "keys.yaml"
    path.write_text("sk-alice: alice\n")
    keys = KeyFile(path)
    rewrite(path, "sk-bob: bob\n")
    assert keys.current() == {"sk-alice": "alice"}  # within the second: not yet
