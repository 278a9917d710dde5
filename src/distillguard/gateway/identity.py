"""Who is calling: the account from a header set by your auth layer, or from an API key map.

API keys are secrets: they are never logged; the exchange log carries a keyed-free short
hash (`api_key_id`) that names the key without revealing it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

from distillguard.errors import ConfigError
from distillguard.unique_yaml import DuplicateKeyError, load_unique

DEFAULT_HEADER = "x-distillguard-account"


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
    bearers = [
        a[7:].strip() for a in headers.getlist("authorization") if a.lower().startswith("bearer ")
    ]
    return {k for k in (*bearers, *headers.getlist("x-api-key")) if k}


class Identity:
    """`header:NAME` (default) or `keys:FILE` (YAML or JSON: api key -> account)."""

    def __init__(self, header: str | None = None, keys: dict[str, str] | None = None) -> None:
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
            return cls(keys=_load_keys(Path(value)))
        raise ConfigError(f"bad identity {spec!r}; valid: header:NAME, keys:FILE")

    def caller(self, headers: HeaderValues) -> Caller:
        # Both headers go upstream: with two different keys, the one checked here need
        # not be the one the upstream serves (a blocked key beside a clean one).
        keys = api_keys(headers)
        if len(keys) > 1:
            return Caller(None, None, refused="Two different API keys.")
        key = next(iter(keys), None)
        kid = key_id(key) if key else None
        if self.keys is not None:
            return Caller(self.keys.get(key) if key else None, kid)
        # An auth layer that adds its header beside the client's (instead of replacing
        # it) leaves two: which one is the layer's cannot be told, so neither is taken.
        named = {v for v in headers.getlist(self.header) if v}
        if len(named) > 1:
            return Caller(None, kid, refused="Two different account headers.")
        return Caller(next(iter(named), None), kid)


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
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ConfigError(f"key map {path} must map each API key (text) to an account (text)")
    return data
