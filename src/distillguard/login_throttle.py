"""Failed logins in a sliding window, for the console's form and the TAXII server's
Basic credentials: at most MAX_FAILURES per client address and name, MAX_CLIENT_FAILURES
per address across every name (password spraying)."""

from __future__ import annotations

import threading
import time
from collections import deque

MAX_FAILURES = 5  # per client address and name
MAX_CLIENT_FAILURES = 20  # per client address, whatever the names (password spraying)
FAILURE_WINDOW_S = 300.0


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
