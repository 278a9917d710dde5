"""The VerdictStore protocol, the audit record of a change, and `open_store`."""

from __future__ import annotations

import builtins
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from distillguard.errors import ConfigError, UserError
from distillguard.shown_url import masked
from distillguard.verdicts.model import Source, Verdict

SCHEMES = ("memory", "redis://HOST:PORT/DB", "rediss://HOST:PORT/DB (TLS)",
           "a file path (the embedded default)")  # fmt: skip
REDIS_SCHEMES = ("redis", "rediss")


@dataclass(frozen=True)
class Change:
    """One line of the audit log: a verdict set, or a subject's verdicts cleared."""

    op: Literal["set", "clear"]
    key: str
    at: datetime
    verdict: Verdict | None = None
    source: Source | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "key": self.key,
            "at": self.at.isoformat(),
            "verdict": self.verdict.to_json() if self.verdict else None,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Change:
        op = row["op"]
        if op not in ("set", "clear"):
            raise ValueError(f"unknown op {op!r}")
        verdict = Verdict.from_json(row["verdict"]) if row.get("verdict") else None
        if op == "set" and verdict is None:
            raise ValueError("a set without a verdict")
        return cls(op, str(row["key"]), datetime.fromisoformat(row["at"]), verdict, row["source"])


@runtime_checkable
class VerdictStore(Protocol):
    """Where verdicts live. `get` is on every gateway request: it must be cheap."""

    def get(self, key: str) -> Verdict | None:
        """The verdict in force for a key (`account:ID` or `cluster:ID`), or None."""

    def set(self, verdict: Verdict) -> None:
        """Record a verdict, replacing the same source's earlier one for that subject."""

    def clear(self, key: str, source: Source | None = None) -> int:
        """Remove a subject's verdicts (of one source, or all); how many went."""

    def list(self) -> builtins.list[Verdict]:
        """Every verdict in force, one per subject, ordered by key."""

    def audit(self) -> builtins.list[Change]:
        """Every change ever made, oldest first."""

    def close(self) -> None:
        """Release connections and files."""


class StoreFileError(OSError):
    """A verdict store's own file could not be read or written (a full disk, a lost
    mount, a permission changed): an OSError, with the original's errno, message and
    file, that says the store failed, not the lake or the logs around it."""

    @classmethod
    def of(cls, exc: OSError) -> StoreFileError:
        what = exc.strerror or str(exc) or type(exc).__name__
        return cls(exc.errno or 0, what, exc.filename, None, exc.filename2)


def store_error(exc: BaseException) -> str | None:
    """A one-line account of a verdict store that could not be reached or refused a
    command (Redis down, a database index out of range), else None. Redis is imported
    only when a redis:// store was opened, so it is looked up, not imported, here."""
    errors = sys.modules.get("redis.exceptions")
    if errors is None or not isinstance(exc, errors.RedisError):
        return None
    said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    # RESP3 words it as HELLO's refusal; RESP2's NOAUTH comes as an AuthenticationError
    # ("Authentication required."), a wrong password as one too, said as it is
    no_password = isinstance(exc, errors.AuthenticationError) and "invalid" not in said
    if no_password or any(sign in said for sign in _NO_PASSWORD):
        return (
            "verdict store: this Redis asks for a password and none was given: put it in "
            "the URL, redis://:PASSWORD@HOST:PORT/DB (or USER:PASSWORD@)"
        )
    return f"verdict store: {said}"


# What Redis answers a client that gave no password (NOAUTH to a command, or to the HELLO
# that starts a RESP3 connection).
_NO_PASSWORD = ("NOAUTH", "must be called with the client already authenticated")


def shown_state(state: str) -> str:
    """A STATE string as it may be printed: any URL's password masked, a mistyped one's
    too (rediss://, REDIS://, redis:/ were printed whole in their error)."""
    if "://" in state or state.lower().startswith("redis"):
        return masked(state)
    return state


def open_store(state: str, *, existing: bool = False) -> VerdictStore:
    """The store a STATE string names: `memory`, `redis://HOST:PORT/DB`, or a file path;
    `existing`: for a command that only reads or changes verdicts, a file path must hold
    a store already (a mistyped path would otherwise read as an empty store)."""
    scheme = state.split("://", 1)[0].lower() if "://" in state else ""
    if scheme in REDIS_SCHEMES:  # REDIS:// as redis://: schemes are case-blind
        state = scheme + state[len(scheme) :]
    elif state.lower().startswith("redis"):
        raise ConfigError(
            f"bad verdict store {shown_state(state)!r}: a Redis store is redis://HOST:PORT/DB"
            " (rediss:// with TLS)"
        )
    if state == "memory":
        from distillguard.verdicts.memory import MemoryStore

        return MemoryStore()
    if scheme in REDIS_SCHEMES:
        from distillguard.verdicts.redis_store import RedisStore

        return RedisStore.from_url(state)
    if "://" in state or not state.strip():
        raise ConfigError(
            f"unknown verdict store {shown_state(state)!r}; valid: {', '.join(SCHEMES)}"
        )
    from distillguard.verdicts.file_store import FileStore

    if existing and not Path(state).exists():
        raise ConfigError(
            f"no verdict store at {state}: give the file that a gateway, watch or "
            "'verdicts publish' uses"
        )
    return FileStore(Path(state))


def check_answers(store: VerdictStore, state: str) -> str | None:
    """A store that refuses its client (a wrong password, none, a database index out of
    range) is a mistake in the command, and a gateway failing open would serve every
    blocked account: raised. One that does not answer (down, unreachable) is the outage a
    fail mode is for: its one line is returned, to warn of."""
    try:
        store.get("account:")
    except Exception as exc:
        problem = store_error(exc)
        if problem is None:
            raise
        if _is_outage(exc):
            return problem
        raise UserError(
            f"{problem} ({shown_state(state)}): check its password and database"
        ) from None
    return None


def _is_outage(exc: Exception) -> bool:
    errors = sys.modules["redis.exceptions"]  # store_error found a Redis error: it is loaded
    refused = (errors.AuthenticationError, errors.AuthorizationError, errors.ResponseError)
    down = (errors.ConnectionError, errors.TimeoutError)
    return isinstance(exc, down) and not isinstance(exc, refused)
