"""An in-process verdict store, for tests and single-process runs."""

from __future__ import annotations

import builtins
import threading

from distillguard.verdicts.model import Source, Verdict, effective, now
from distillguard.verdicts.store import Change


class MemoryStore:
    """Verdicts in a dict keyed by subject then source; the audit log is a list."""

    def __init__(self) -> None:
        self._by_key: dict[str, dict[str, Verdict]] = {}
        self._audit: list[Change] = []
        self._lock = threading.Lock()  # writers only: readers see a dict swapped whole

    def get(self, key: str) -> Verdict | None:
        found = self._by_key.get(key)
        return effective(list(found.values()), now()) if found else None

    def set(self, verdict: Verdict) -> None:
        with self._lock:
            sources = dict(self._by_key.get(verdict.key, {}))
            sources[verdict.source] = verdict
            self._by_key[verdict.key] = sources
            self._audit.append(Change("set", verdict.key, now(), verdict, verdict.source))

    def clear(self, key: str, source: Source | None = None) -> int:
        with self._lock:
            sources = dict(self._by_key.get(key, {}))
            gone = [s for s in sources if source is None or s == source]
            for s in gone:
                del sources[s]
            self._by_key[key] = sources
            self._audit.append(Change("clear", key, now(), None, source))
            return len(gone)

    def list(self) -> builtins.list[Verdict]:
        at = now()
        found = (effective(list(v.values()), at) for _, v in sorted(self._by_key.items()))
        return [v for v in found if v is not None]

    def audit(self) -> builtins.list[Change]:
        return list(self._audit)

    def close(self) -> None:
        """Nothing to release."""
