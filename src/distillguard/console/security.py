"""Sessions and CSRF tokens for the console (its login throttle is login_throttle.py).

Sessions are signed cookies (Starlette's SessionMiddleware over itsdangerous): HttpOnly
always, SameSite=lax (a link into the console from a ticket opens with the session; another
site's form is sent without it), Secure when served over TLS. Every form carries the
session's CSRF token; a POST without the right one is refused before it does anything.
Response headers (no framing, no caching, no referrer) are headers.py's.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import os
import secrets
import stat
import threading
import time
from pathlib import Path

import orjson
from starlette.requests import Request

from distillguard.secret_file import write_private

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf"
SESSION_MAX_AGE_S = 12 * 3600
TOUCH_S = 300  # how stale a live session's last use may be kept before it is written


def private_home(home: Path) -> Path:
    """The console's home, created owner-only (0700): it holds case evidence with
    customers' prompts, password hashes and the session key, and DuckDB and the allowlist
    create their files with the process's umask, often world-readable. An existing home
    of ours that others may enter is narrowed, with a warning; one that is a link or
    belongs to someone else (a service directory shared on purpose) is left as it is."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = home.lstat()
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077 and stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid():
        home.chmod(mode & 0o700)
        log.warning("console home %s was open to others (%o): now %o", home, mode, mode & 0o700)
    return home


def session_secret(home: Path) -> str:
    """A per-installation signing key, kept 0600 in the console's home, so a restart
    does not log everyone out and two installations never accept each other's cookies."""
    path = home / "session.key"
    if not path.exists():
        private_home(home)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return str(token)


def csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.session.get(CSRF_FIELD)
    return bool(expected and submitted) and hmac.compare_digest(str(expected), str(submitted))


class SessionRegistry:
    """The live sessions. A signed cookie alone cannot be revoked: each session also
    carries a random id that must be here, and logging out removes it. Each id also keeps
    which password it was opened with (User.credential) and when. With a `path` (the
    console's home) they are kept there, owner-only and as hashes of the ids (the file
    opens no session by itself), so a restart to load a new detect run logs nobody out;
    a session unused for SESSION_MAX_AGE_S is gone, as its cookie is."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._live: dict[str, tuple[str, str, float]] = self._read()

    def open(self, user: str, credential: str) -> str:
        sid = secrets.token_urlsafe(24)
        with self._lock:
            self._live[_hashed(sid)] = (user, credential, time.time())
            self._write()
        return sid

    def held(self, sid: str | None) -> tuple[str, str] | None:
        """(user, credential) of a live session. Use keeps it live, as the cookie that
        the session middleware sets again on every answer: its time moves on, written at
        most every TOUCH_S (a page's every request would write the file)."""
        key = _hashed(sid) if sid else ""
        row = self._live.get(key)
        now = time.time()
        if row is None or _expired(row[2], now):
            return None
        if now - row[2] > TOUCH_S:
            with self._lock:
                if key in self._live:
                    self._live[key] = (row[0], row[1], now)
                    self._write()
        return row[0], row[1]

    def close(self, sid: str | None) -> None:
        with self._lock:
            if self._live.pop(_hashed(sid or ""), None) is not None:
                self._write()

    def _read(self) -> dict[str, tuple[str, str, float]]:
        if self._path is None or not self._path.exists():
            return {}
        try:
            rows = orjson.loads(self._path.read_bytes())
            now = time.time()
            return {
                h: (str(u), str(c), float(t))
                for h, (u, c, t) in rows.items()
                if not _expired(float(t), now)
            }
        except (orjson.JSONDecodeError, OSError, ValueError, TypeError, AttributeError) as exc:
            log.warning("console sessions %s unreadable (%s): everyone logs in again",
                        self._path, type(exc).__name__)  # fmt: skip
            return {}

    def _write(self) -> None:
        if self._path is not None:
            now = time.time()
            live = {h: r for h, r in self._live.items() if not _expired(r[2], now)}
            self._live = live
            write_private(self._path, orjson.dumps(live))


def _expired(last_used: float, now: float) -> bool:
    """Unused for longer than a cookie lives: the one age rule for reading, using and
    writing the sessions."""
    age = now - last_used  # NaN, infinite or a day ahead (edited, not a clock's step): gone
    return not (math.isfinite(age) and -86_400 <= age <= SESSION_MAX_AGE_S)


def _hashed(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()
