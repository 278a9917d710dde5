"""Who is calling: the account from a header set by your auth layer, or from an API key map.

API keys are secrets: they are never logged; the exchange log carries a keyed-free short
hash (`api_key_id`) that names the key without revealing it. A key map is read again when
its file changes, so keys are added and revoked without a restart.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

from distillguard.errors import ConfigError
from distillguard.shown_url import CREDENTIAL_WORDS
from distillguard.unique_yaml import DuplicateKeyError, load_unique

DEFAULT_HEADER = "x-distillguard-account"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    account: str | None  # None: unknown key, no account header, or two keys
    api_key_id: str | None
    # why a request that names an account is refused all the same: two different API
    # keys (whoever the header names), or the account header twice with two values
    refused: str | None = None


def key_id(key: str) -> str:
    return "k-" + hashlib.sha256(key.encode()).hexdigest()[:16]


class HeaderValues(Protocol):
    """Request headers, each name with every value it was sent with (Starlette's)."""

    def getlist(self, key: str) -> list[str]: ...


def api_keys(headers: HeaderValues) -> set[str]:
    """The distinct API keys a request carries, as Bearer tokens and as x-api-key, every
    copy of each header counted: a second copy is how a client slips a key past a check."""
    bearers = [_bearer(a) for a in headers.getlist("authorization")]
    return {k for k in (*bearers, *headers.getlist("x-api-key")) if k}


def _bearer(authorization: str) -> str | None:
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":  # tabs too: "Bearer\tKEY" is one word here
        return None
    return rest.strip() or None


def unread_credentials(headers: HeaderValues, query: Iterable[str]) -> str | None:
    """Why a request carries a credential the gateway does not read, or None. It goes
    upstream all the same, and an upstream that reads it (LiteLLM takes Basic KEY, or a
    bare key, before x-api-key) serves the key it names, not the one checked here."""
    if any(_bearer(a) is None for a in headers.getlist("authorization")):
        return "Authorization must be 'Bearer API_KEY'."
    if any(_CREDENTIAL_WORDS.search(name) for name in query):
        return "Send the API key as Bearer or x-api-key, not in the query string."
    return None


_CREDENTIAL_WORDS = re.compile(CREDENTIAL_WORDS, re.IGNORECASE)


class Identity:
    """`header:NAME` (default) or `keys:FILE` (YAML or JSON: api key -> account)."""

    def __init__(self, header: str | None = None, keys: KeyFile | None = None) -> None:
        self.header = (header or DEFAULT_HEADER).lower()
        self.keys = keys

    @classmethod
    def parse(cls, spec: str | None) -> Identity:
        if spec is None:
            return cls()
        scheme, _, value = spec.partition(":")
        if scheme == "header" and value:
            return cls(header=value)
        if scheme == "keys" and value:
            return cls(keys=KeyFile(Path(value)))
        raise ConfigError(f"bad identity {spec!r}; valid: header:NAME, keys:FILE")

    def caller(self, headers: HeaderValues, query: Iterable[str] = ()) -> Caller:
        # Both headers go upstream: with two different keys, the one checked here need
        # not be the one the upstream serves (a blocked key beside a clean one).
        keys = api_keys(headers)
        unread = unread_credentials(headers, query) if self.keys is not None else None
        if unread is not None:
            return Caller(None, None, refused=unread)
        if len(keys) > 1:
            return Caller(None, None, refused="Two different API keys.")
        key = next(iter(keys), None)
        kid = key_id(key) if key else None
        if self.keys is not None:
            account = self.keys.current().get(key) if key else None
            why = None if account else ("Unknown API key." if key else "No API key.")
            return Caller(account, kid, refused=why)
        # An auth layer that adds its header beside the client's (instead of replacing
        # it) leaves two: which one is the layer's cannot be told, so neither is taken.
        named = {v for v in headers.getlist(self.header) if v}
        if len(named) > 1:
            return Caller(None, kid, refused="Two different account headers.")
        account = next(iter(named), None)
        return Caller(account, kid, refused=None if account else f"No {self.header} header.")


class KeyFile:
    """An API key map from a file, read again when the file changes (checked at most once
    a second). An edit that breaks the file is logged and the keys read before still
    serve: turning every customer away over a typo is worse than a revocation that waits
    for the fix, and the log says so at once."""

    CHECK_EVERY_S = 1.0

    def __init__(self, path: Path) -> None:
        self.path = path
        try:  # stamped before it is read: an edit landing between them is read again
            stamp: tuple[int, ...] | None = _stamp(path)
        except OSError:
            stamp = None  # _load_keys says what is wrong, in one line
        self.keys = _load_keys(path)
        self._stamp = stamp
        self._checked = time.monotonic()

    def current(self) -> dict[str, str]:
        if time.monotonic() - self._checked >= self.CHECK_EVERY_S:
            self._checked = time.monotonic()
            self._read_if_changed()
        return self.keys

    def _read_if_changed(self) -> None:
        try:
            stamp: tuple[int, ...] | None = _stamp(self.path)
        except OSError as exc:
            stamp = None
            if self._stamp is not None:  # once, not at every check while it is gone
                log.error("cannot read key map %s: %s; still serving the %d keys read "
                          "before", self.path, exc.strerror, len(self.keys))  # fmt: skip
        if stamp is None or stamp == self._stamp:
            self._stamp = stamp
            return
        self._stamp = stamp
        try:
            self.keys = _load_keys(self.path)
        except ConfigError as exc:
            log.error("%s; still serving the %d keys read before", exc, len(self.keys))
            return
        log.info("key map %s read again: %d keys", self.path, len(self.keys))


def _stamp(path: Path) -> tuple[int, ...]:
    """What changes when a file is written or replaced (an editor's rename included)."""
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size, st.st_ino


def _load_keys(path: Path) -> dict[str, str]:
    try:
        data = load_unique(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ConfigError(f"cannot read key map {path}: {exc.strerror}") from exc
    except UnicodeDecodeError:
        raise ConfigError(f"key map {path} is not UTF-8 text") from None
    except DuplicateKeyError as exc:  # one key for two accounts: the last would win
        raise ConfigError(f"key map {path}: an API key is given twice (line {exc.line})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"key map {path} is not valid YAML or JSON") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"key map {path} must map each API key (text) to an account (text)")
    for n, (key, account) in enumerate(data.items(), 1):
        if not isinstance(key, str):  # a key is a secret: its position is named, never it
            raise ConfigError(f"key map {path}: entry {n}'s API key is not text: quote it")
        if not isinstance(account, str) or not account:
            raise ConfigError(
                f"key map {path}: entry {n} maps to {account!r}, not an account id: quote it"
            )
    return data
