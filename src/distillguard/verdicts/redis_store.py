"""Verdicts in Redis, shared by gateway replicas: one hash per subject, one audit list.

`dg:v:<kind>:<id>` maps each source to its verdict's JSON, so a read is one HGETALL and
an analyst's verdict and the detector's live side by side; `dg:audit` is an append-only
list of changes. Socket timeouts are short: a gateway must not wait on a dead server.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlparse

import orjson
import redis

from distillguard.errors import ConfigError
from distillguard.shown_url import masked
from distillguard.verdicts.model import Source, Verdict, effective, now
from distillguard.verdicts.store import Change

T = TypeVar("T")

log = logging.getLogger(__name__)
PREFIX = "dg:v:"
AUDIT = "dg:audit"


class RedisStore:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.corrupt_rows = 0

    @classmethod
    def from_url(cls, url: str, timeout_s: float = 0.25) -> RedisStore:
        parsed, shown = urlparse(url), masked(url)
        database = parsed.path.strip("/")
        try:
            port = parsed.port
        except ValueError:  # not a number, or past 65535
            port = None
        # redis-py reads a path it cannot parse as database 0, silently.
        if not parsed.hostname or not port or not (database == "" or database.isdigit()):
            raise ConfigError(f"bad redis state {shown!r}; use redis://HOST:PORT/DB")
        try:
            return cls(
                redis.Redis.from_url(
                    url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
                )
            )
        except ValueError as exc:
            raise ConfigError(f"bad redis state {shown!r}: {exc}") from exc

    def _decode(self, raw: Any, parse: Callable[[dict[str, Any]], T]) -> T | None:
        """A stored row parsed, or None (skipped and counted) when it is corrupt."""
        try:
            return parse(orjson.loads(raw))
        except (ValueError, TypeError, KeyError) as exc:
            self.corrupt_rows += 1
            log.warning("redis verdict store: skipped a corrupt row (%s)", exc)
            return None

    def _verdicts(self, raw: dict[Any, Any]) -> list[Verdict]:
        found = (self._decode(v, Verdict.from_json) for v in raw.values())
        return [v for v in found if v is not None]

    def get(self, key: str) -> Verdict | None:
        raw: dict[Any, Any] = self.client.hgetall(PREFIX + key)
        return effective(self._verdicts(raw), now()) if raw else None

    def set(self, verdict: Verdict) -> None:
        change = Change("set", verdict.key, now(), verdict, verdict.source)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(PREFIX + verdict.key, verdict.source, orjson.dumps(verdict.to_json()))
        pipe.rpush(AUDIT, orjson.dumps(change.to_json()))
        pipe.execute()

    def clear(self, key: str, source: Source | None = None) -> int:
        change = Change("clear", key, now(), None, source)
        pipe = self.client.pipeline(transaction=True)
        if source is None:
            pipe.hlen(PREFIX + key)
            pipe.delete(PREFIX + key)
        else:
            pipe.hdel(PREFIX + key, source)
        pipe.rpush(AUDIT, orjson.dumps(change.to_json()))
        return int(pipe.execute()[0])

    def list(self) -> builtins.list[Verdict]:
        keys = sorted(self.client.scan_iter(match=PREFIX + "*", count=1000))
        pipe = self.client.pipeline(transaction=False)
        for k in keys:
            pipe.hgetall(k)
        at = now()
        found = (effective(self._verdicts(raw), at) for raw in pipe.execute())
        return [v for v in found if v is not None]

    def audit(self) -> builtins.list[Change]:
        found = (self._decode(r, Change.from_json) for r in self.client.lrange(AUDIT, 0, -1))
        return [c for c in found if c is not None]

    def close(self) -> None:
        self.client.close()
