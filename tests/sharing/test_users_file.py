"""The TAXII server's users file holds password hashes: owner-only, new or replaced."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from distillguard.errors import UserError
from distillguard.sharing.taxii.auth import Users, add_user, credentials


@pytest.mark.parametrize("existing", [None, 0o644])
def test_the_users_file_is_owner_only_after_a_user_is_added(
    tmp_path: Path, existing: int | None
) -> None:
    """touch(mode=0o600) left an existing file that others could read as it was."""
    path = tmp_path / "users.json"
    if existing is not None:
        path.write_text("{}")
        path.chmod(existing)
    add_user(path, "peer-a", "a long password")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    header = "Basic " + base64.b64encode(b"peer-a:a long password").decode()
    given = credentials(header)
    assert given is not None and given[0] == "peer-a" and Users.load(path).verify(*given)


def test_a_file_that_is_not_a_users_file_is_refused_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text("not json at all")
    with pytest.raises(UserError, match="is not a users file"):
        add_user(path, "peer-a", "a long password")
    assert path.read_text() == "not json at all"


@pytest.mark.parametrize(
    ("user", "password", "message"),
    [
        ("", "a long password", "bad user name"),
        ("bad:name", "a long password", "bad user name"),  # Basic auth ends the name at ':'
        ("tab\there", "a long password", "bad user name"),
        (" ", "a long password", "bad user name"),  # a name of spaces: none at all
        (" alice", "a long password", "bad user name"),
        ("carol", "x", "at least 8 characters"),
    ],
)
def test_a_user_who_could_never_log_in_or_a_short_password_is_refused(
    tmp_path: Path, user: str, password: str, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        add_user(tmp_path / "users.json", user, password)
    assert not (tmp_path / "users.json").exists()
