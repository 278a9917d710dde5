"""Sessions and CSRF tokens for the console (its login throttle is login_throttle.py).

Sessions are signed cookies (Starlette's SessionMiddleware over itsdangerous): HttpOnly
always, SameSite=lax (a link into the console from a ticket opens with the session; another
site's form is sent without it), Secure when served over TLS. Every form carries the
session's CSRF token; a POST without the right one is refused before it does anything.
Response headers (no framing, no caching, no referrer) are headers.py's.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import stat
import threading
from pathlib import Path

from starlette.requests import Request

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf"
SESSION_MAX_AGE_S = 12 * 3600


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
    """The live sessions of this console process. A signed cookie alone cannot be revoked:
    each session also carries a random id that must be here, and logging out removes it.
    Each id also keeps which password it was opened with (UserStore.credential)."""

    def __init__(self) -> None:
        self._live: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def open(self, user: str, credential: str) -> str:
        sid = secrets.token_urlsafe(24)
        with self._lock:
            self._live[sid] = (user, credential)
        return sid

    def held(self, sid: str | None) -> tuple[str, str] | None:
        """(user, credential) of a live session."""
        return self._live.get(sid) if sid else None

    def close(self, sid: str | None) -> None:
        with self._lock:
            self._live.pop(sid or "", None)
