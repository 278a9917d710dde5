"""The console's users file: edited by hand into something unusable, it keeps the users
read before (one error in the log) instead of failing every page with a 500."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from distillguard.console.users import UserStore
from distillguard.errors import ConfigError

PASSWORD = "correct-horse-9"

# (case, the file's text after the hand edit, what the error says)
BROKEN = [
    ("the last brace dropped", None, "is not JSON"),
    ("a user without a hash", '{"alice": {"role": "analyst"}}', "'alice' has no password hash"),
    ("a role in capitals", '{"alice": {"role": "Analyst", "hash": "x"}}', "unknown role 'Analyst'"),
    ("a list", "[1]", "expected an object of users"),
]


@pytest.mark.parametrize("case", BROKEN, ids=[c[0] for c in BROKEN])
def test_a_broken_users_file_keeps_the_users_read_before(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, case: tuple[str, str | None, str]
) -> None:
    _, text, message = case
    users = UserStore(tmp_path / "users.json")
    users.add("alice", "analyst", PASSWORD)
    assert users.verify("alice", PASSWORD) is not None
    good = users.path.read_text()
    users.path.write_text(text if text is not None else good.rstrip().rstrip("}"))
    with caplog.at_level(logging.ERROR, logger="distillguard.console"):
        assert users.verify("alice", PASSWORD) is not None
        assert users.names() == ["alice"]
    assert [r.getMessage() for r in caplog.records].count(caplog.records[0].getMessage()) == 1
    assert message in caplog.records[0].getMessage()
    with pytest.raises(ConfigError, match=message):  # adding a user does not write over it
        users.add("bob", "viewer", PASSWORD)
    with pytest.raises(ConfigError, match=message):  # a console that never read it good
        UserStore(users.path).names()
