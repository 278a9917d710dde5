"""`distillguard console` and `console add-user`: users, and one-line errors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from distillguard.cli.main import main
from distillguard.console.users import UserStore
from distillguard.detect.run import DetectSummary


def test_add_user_reads_the_password_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "verdicts.jsonl"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert main(["console", "add-user", "alice", "--role", "viewer", "--state", str(state)]) == 0
    users = UserStore(tmp_path / "console" / "users.json")
    assert users.verify("alice", "a long password") == users.get("alice")
    assert users.verify("alice", "wrong") is None
    assert "a long password" not in (tmp_path / "console" / "users.json").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["console", "add-user", "bob", "--role", "king", "--state", "s.jsonl"], "invalid choice"),
        (["console", "add-user", "bob", "--role", "viewer", "--state", "memory"], "--home"),
        (["console", "--state", "s.jsonl"], "--findings"),
        (["console", "--findings", "."], "--state is required"),
    ],
)
def test_mistakes_are_one_line(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_console_without_users_says_how_to_add_one(
    tiny_detect: DetectSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(tmp_path / "verdicts.jsonl")
    assert main(["console", "--findings", str(tiny_detect.out), "--state", state]) == 2
    assert "console add-user" in capsys.readouterr().err


def test_short_passwords_are_refused(tmp_path: Path) -> None:
    from distillguard.errors import UserError

    with pytest.raises(UserError, match="8 characters"):
        UserStore(tmp_path / "users.json").add("alice", "viewer", "short")
