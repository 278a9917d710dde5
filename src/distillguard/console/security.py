"""Sessions, CSRF tokens and login throttling for the console.

Sessions are signed cookies (Starlette's SessionMiddleware over itsdangerous): HttpOnly
always, SameSite=strict, Secure when served over TLS. Every form carries the session's CSRF
token; a POST without the right one is refused before it does anything.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import deque
from pathlib import Path

from starlette.requests import Request

CSRF_FIELD = "csrf"
MAX_FAILURES = 5
FAILURE_WINDOW_S = 300.0


def session_secret(home: Path) -> str:
    """A per-installation signing key, kept 0600 in the console's home, so a restart
    does not log everyone out and two installations never accept each other's cookies."""
    path = home / "session.key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
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
    """At most MAX_FAILURES failed logins per client address and name in a sliding window."""

    def __init__(self) -> None:
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], at: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and at - times[0] > FAILURE_WINDOW_S:
            times.popleft()
        return times

    def blocked_for(self, client: str, name: str) -> float:
        """Seconds until this client may try this name again; 0 when it may now."""
        at = time.monotonic()
        with self._lock:
            times = self._recent((client, name), at)
            if len(times) < MAX_FAILURES:
                return 0.0
            return max(0.0, FAILURE_WINDOW_S - (at - times[0]))

    def failed(self, client: str, name: str) -> None:
        with self._lock:
            self._recent((client, name), time.monotonic()).append(time.monotonic())

    def succeeded(self, client: str, name: str) -> None:
        with self._lock:
            self._failures.pop((client, name), None)
