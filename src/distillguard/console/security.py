"""Sessions, CSRF tokens and login throttling for the console.

Sessions are signed cookies (Starlette's SessionMiddleware over itsdangerous): HttpOnly
always, SameSite=strict, Secure when served over TLS. Every form carries the session's CSRF
token; a POST without the right one is refused before it does anything.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import stat
import threading
import time
from collections import deque
from pathlib import Path

from starlette.requests import Request

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf"
MAX_FAILURES = 5  # per client address and name
MAX_CLIENT_FAILURES = 20  # per client address, whatever the names (password spraying)
FAILURE_WINDOW_S = 300.0
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


class LoginThrottle:
    """Failed logins in a sliding window: at most MAX_FAILURES per client address and name,
    and MAX_CLIENT_FAILURES per address across every name. Keys with no recent failure are
    dropped, so the table stays as small as the attack."""

    def __init__(self) -> None:
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], at: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and at - times[0] > FAILURE_WINDOW_S:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def _wait(self, key: tuple[str, str], limit: int, at: float) -> float:
        times = self._recent(key, at)
        return max(0.0, FAILURE_WINDOW_S - (at - times[0])) if len(times) >= limit else 0.0

    def attempt(self, client: str, name: str) -> float:
        """Seconds until this client may try this name again, or 0: then the attempt is
        counted as failed at once, before its password is checked, and `succeeded` takes
        it back. Counted after the check (argon2, a tenth of a second), sixty attempts
        sent together all passed the check of five."""
        at = time.monotonic()
        with self._lock:
            wait = max(
                self._wait((client, name), MAX_FAILURES, at),
                self._wait((client, ""), MAX_CLIENT_FAILURES, at),
            )
            if not wait:
                for key in ((client, name), (client, "")):
                    self._failures.setdefault(key, self._recent(key, at)).append(at)
            return wait

    def succeeded(self, client: str, name: str) -> None:
        with self._lock:
            self._failures.pop((client, name), None)
            across = self._failures.get((client, ""))
            if across:
                across.pop()  # this attempt's count: a success is no failure


class SessionRegistry:
    """The live sessions of this console process. A signed cookie alone cannot be revoked:
    each session also carries a random id that must be here, and logging out removes it."""

    def __init__(self) -> None:
        self._live: dict[str, str] = {}
        self._lock = threading.Lock()

    def open(self, user: str) -> str:
        sid = secrets.token_urlsafe(24)
        with self._lock:
            self._live[sid] = user
        return sid

    def user(self, sid: str | None) -> str | None:
        return self._live.get(sid) if sid else None

    def close(self, sid: str | None) -> None:
        with self._lock:
            self._live.pop(sid or "", None)
