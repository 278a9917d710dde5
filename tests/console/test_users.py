"""The console's users file, edited by hand: it counts at once and fails closed. A broken
entry lets that user in no more (the others still log in), a file that is not a JSON
object lets nobody in, each said once in the log and never a 500; removals and demotions
hold whatever else the edit broke."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from distillguard.console.users import UserStore
from distillguard.errors import ConfigError

PASSWORD = "correct-horse-9"

Users = dict[str, dict[str, str]]


def _role(users: Users, name: str, role: str) -> Users:
    return {**users, name: {**users[name], "role": role}}


# (case, the edit of {alice: analyst, bob: analyst}, who logs in after it, what is said)
EDITS: list[tuple[str, Callable[[Users], str], set[str], str]] = [
    ("the last brace dropped", lambda u: json.dumps(u)[:-1], set(), "is not JSON"),
    ("a list", lambda u: "[1]", set(), "expected an object of users"),
    (
        "bob without a hash",
        lambda u: json.dumps({**u, "bob": {"role": "analyst"}}),
        {"alice"},
        "'bob' has no password hash",
    ),
    (
        "bob's role in capitals",
        lambda u: json.dumps(_role(u, "bob", "Analyst")),
        {"alice"},
        "unknown role 'Analyst'",
    ),
    ("bob 'disabled'", lambda u: json.dumps(_role(u, "bob", "disabled")), {"alice"}, "'disabled'"),
    (
        "bob removed, alice mistyped",
        lambda u: json.dumps({"alice": _role(u, "alice", "Admin")["alice"]}),
        set(),
        "'Admin'",
    ),
]


@pytest.mark.parametrize("case", EDITS, ids=[c[0] for c in EDITS])
def test_a_hand_edit_counts_at_once_and_fails_closed(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    case: tuple[str, Callable[[Users], str], set[str], str],
) -> None:
    _, edit, let_in, message = case
    users = UserStore(tmp_path / "users.json")
    users.add("alice", "analyst", PASSWORD)
    users.add("bob", "analyst", PASSWORD)
    good = json.loads(users.path.read_text())
    users.path.write_text(edit(good))
    with caplog.at_level(logging.ERROR, logger="distillguard.console"):
        logged_in = {n for n in ("alice", "bob") if users.verify(n, PASSWORD) is not None}
        assert {n for n in ("alice", "bob") if users.get(n)} == logged_in
    assert logged_in == let_in
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and message in said[0]  # said once, however often it is read
    with pytest.raises(ConfigError, match=message):  # the console's start refuses it
        UserStore(users.path).check()
    with pytest.raises(ConfigError, match=message):  # add-user does not write over it
        users.add("carol", "viewer", PASSWORD)
