"""The community key: HMAC-SHA256 of fingerprints, so shared indicators reveal no text.

Prompt templates, user agents and addresses are guessable, so a plain hash of one leaks it
to anyone who hashes guesses. Under a key that only the sharing community holds, a peer
with the key can compute the same value from its own traffic and compare; nobody else can
test a guess. The key id (an HMAC of a fixed label) travels with every indicator, so a
peer can tell a bundle made under another key from one that simply does not match.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distillguard.errors import UserError
from distillguard.secret_file import warn_if_shared

KEY_BYTES = 32
KIND = "distillguard-community-key"
_ID_LABEL = b"distillguard community key id v1"
_SEPARATOR = "\x1f"  # unit separator: a kind can never run into its value


@dataclass(frozen=True)
class CommunityKey:
    """A shared secret for keyed fingerprints. Its repr never shows the secret."""

    secret: bytes

    @property
    def key_id(self) -> str:
        return hmac.new(self.secret, _ID_LABEL, hashlib.sha256).hexdigest()[:16]

    def keyed(self, kind: str, value: str) -> str:
        """The hex HMAC-SHA256 of one fingerprint value of a kind."""
        message = f"{kind}{_SEPARATOR}{value}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def keyed_many(self, kind: str, values: list[str]) -> list[str]:
        return [self.keyed(kind, v) for v in values]

    def __repr__(self) -> str:
        return f"CommunityKey(key_id={self.key_id})"


def generate() -> CommunityKey:
    return CommunityKey(secrets.token_bytes(KEY_BYTES))


def save(key: CommunityKey, path: Path) -> None:
    """Write the key readable by its owner only; never overwrite an existing key."""
    doc = {
        "kind": KIND,
        "version": 1,
        "key_id": key.key_id,
        "secret": base64.b64encode(key.secret).decode(),
    }
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UserError(f"{path} exists; a key is never overwritten") from None
    except OSError as exc:
        raise UserError(f"cannot write key to {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as handle:
        json.dump(doc, handle)


def load(path: Path) -> CommunityKey:
    doc: Any = None
    try:
        doc = json.loads(path.read_text())
        secret = base64.b64decode(doc["secret"], validate=True)
    except FileNotFoundError:
        raise UserError(f"key file not found: {path}") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(_not_a_key(path, doc)) from None
    if doc.get("kind", KIND) != KIND:  # a provenance key's secret is 32 bytes too, in hex
        raise UserError(_not_a_key(path, doc))
    if len(secret) != KEY_BYTES:
        raise UserError(f"{path}: the key must be {KEY_BYTES} bytes")
    key = CommunityKey(secret)
    if doc.get("key_id") not in (None, key.key_id):
        raise UserError(f"{path}: key id does not match the key; the file is damaged")
    warn_if_shared(path, "community key")
    return key


def _not_a_key(path: Path, doc: Any) -> str:
    """The refusal, with what the file is instead where its document says (a provenance
    key), and how to make one; `doc` is what was read of it (None: not JSON)."""
    kind = doc.get("kind") if isinstance(doc, dict) else None
    said = f"it is a {kind}; " if isinstance(kind, str) and kind.startswith("distillguard-") else ""
    make = "make one: distillguard share keygen --out FILE"
    return f"{path} is not a distillguard community key ({said}{make})"
