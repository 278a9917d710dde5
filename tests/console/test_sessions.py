"""Sessions outlive a restart of the console, and nothing else: logged out, expired, or
read from a file that holds no usable session id."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import orjson
import pytest

from distillguard.console.security import SESSION_MAX_AGE_S, SessionRegistry


def test_a_restart_keeps_the_sessions_and_the_logouts(tmp_path: Path) -> None:
    """Sessions lived in memory only: a restart (the way to load a new detect run) logged
    every analyst out, though the signing key is kept so that it would not."""
    path = tmp_path / "sessions.json"
    before = SessionRegistry(path)
    kept, ended = before.open("alice", "c1"), before.open("bob", "c2")
    before.close(ended)
    after = SessionRegistry(path)
    assert after.held(kept) == ("alice", "c1")
    assert after.held(ended) is None
    assert kept not in path.read_text()  # hashes only: the file opens no session
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_use_keeps_a_session_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The review: stored with its login time only, a session in use ended 12 hours after
    the login, though the cookie is set again on every answer."""
    path = tmp_path / "sessions.json"
    registry = SessionRegistry(path)
    sid = registry.open("alice", "c1")
    start = time.time()
    for hours in (6, 12, 18):
        monkeypatch.setattr(time, "time", lambda h=hours: start + h * 3600)
        assert registry.held(sid) == ("alice", "c1")
    assert SessionRegistry(path).held(sid) == ("alice", "c1")  # the use was written


def test_an_expired_session_is_gone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = SessionRegistry(tmp_path / "sessions.json")
    sid = registry.open("alice", "c1")
    later = time.time() + SESSION_MAX_AGE_S + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert registry.held(sid) is None
    assert SessionRegistry(tmp_path / "sessions.json").held(sid) is None


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b'{"h": [1]}', b'{"h": "x"}'])
def test_a_broken_file_logs_everyone_out_and_says_so(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "sessions.json"
    path.write_bytes(content)
    registry = SessionRegistry(path)
    assert "everyone logs in again" in caplog.text
    sid = registry.open("alice", "c1")
    assert list(orjson.loads(path.read_bytes())) != ["h"]
    assert SessionRegistry(path).held(sid) == ("alice", "c1")


def test_without_a_path_nothing_is_written(tmp_path: Path) -> None:
    registry = SessionRegistry()
    assert registry.held(registry.open("alice", "c1")) == ("alice", "c1")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("when", ["nan", "inf", "-inf", str(time.time() + 10 * 86_400)])
def test_a_session_stored_with_no_usable_time_is_gone(tmp_path: Path, when: str) -> None:
    """A time of NaN compares false every way, and one of infinity or far ahead gives no
    age: read as never expiring, written back as null, they logged everyone out at the
    next start."""
    path = tmp_path / "sessions.json"
    registry = SessionRegistry(path)
    sid = registry.open("alice", "c1")
    [(hashed, (user, credential, _))] = orjson.loads(path.read_bytes()).items()
    path.write_text(f'{{"{hashed}": ["{user}", "{credential}", "{when}"]}}')
    assert SessionRegistry(path).held(sid) is None
