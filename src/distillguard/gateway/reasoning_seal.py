"""Withheld reasoning, sealed for the client to carry back.

Anthropic signs each thinking block, and a client in a tool loop must send the last turn's
blocks back unmodified (text and signature), or the API refuses the request. Degrade
withholds the thinking text from a suspect account, which would break such loops for an
innocent one. So the withheld block's signature field carries the original block, encrypted
and authenticated under the gateway's key (Fernet: AES-128-CBC with HMAC-SHA256); when a
request comes back with it, the gateway puts the original block back before calling
upstream. The client never reads the reasoning, and no state is kept: any replica holding
the key restores any block. A block sealed under a key the gateway no longer holds (a
restart without --seal-key, a retired key) cannot be restored and is left out, which the
API accepts for every turn but an unfinished tool call's.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from distillguard.errors import ConfigError, UserError

SEAL_PREFIX = "distillguard-sealed-v1."
MIN_SECRET_BYTES = 32
_INFO = b"distillguard reasoning seal v1"


@dataclass(frozen=True)
class Restored:
    """What restoring a request's sealed blocks did."""

    restored: int = 0
    dropped: int = 0  # sealed under a key not held, or altered: left out

    def notes(self) -> list[str]:
        parts = [("reasoning restored", self.restored), ("sealed reasoning dropped", self.dropped)]
        return [f"{what}: {n}" for what, n in parts if n]


class ReasoningSeal:
    """Seals withheld thinking blocks and restores them. The first key seals; every key
    opens, so a key is rotated by listing the new one first for a while."""

    def __init__(self, keys: list[bytes], source: str) -> None:
        if not keys:
            raise ConfigError("a reasoning seal needs at least one key")
        self._fernet = MultiFernet([Fernet(_fernet_key(k)) for k in keys])
        self.source = source  # where the keys came from, for the start line; never a key

    @classmethod
    def generate(cls) -> ReasoningSeal:
        """A key made now, for this process only (blocks served before a restart, or by
        another replica, cannot be restored)."""
        return cls([secrets.token_bytes(MIN_SECRET_BYTES)], "a key made at start")

    @classmethod
    def load(cls, paths: list[Path]) -> ReasoningSeal:
        """Keys from secret files of at least 32 random bytes (`openssl rand -base64 48`);
        a one-line UserError naming the file when one cannot be used."""
        return cls([_secret(p) for p in paths], ", ".join(map(str, paths)))

    def seal(self, block: dict[str, Any]) -> str:
        """The signature a withheld block is served with: the block itself, sealed."""
        return SEAL_PREFIX + self._fernet.encrypt(orjson.dumps(block)).decode("ascii")

    def restore_one(self, block: Any) -> tuple[Any, bool | None]:
        """(the block to send upstream, or None to leave it out; True restored, False
        dropped, None not a block a gateway sealed)."""
        if not isinstance(block, dict) or block.get("type") != "thinking":
            return block, None
        signature = block.get("signature")
        if not isinstance(signature, str) or not signature.startswith(SEAL_PREFIX):
            return block, None
        try:
            original = orjson.loads(self._fernet.decrypt(signature[len(SEAL_PREFIX) :]))
        except (InvalidToken, orjson.JSONDecodeError, ValueError):
            return None, False
        return original, True

    def restore_many(self, body: dict[str, Any]) -> Restored:
        """Put every sealed block in an Anthropic request's messages back, in place."""
        restored = dropped = 0
        for message in body.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            if not isinstance(content, list):
                continue
            outcomes = [self.restore_one(block) for block in content]
            if any(outcome is not None for _, outcome in outcomes):
                message["content"] = [sent for sent, _ in outcomes if sent is not None]
                restored += sum(outcome is True for _, outcome in outcomes)
                dropped += sum(outcome is False for _, outcome in outcomes)
        return Restored(restored, dropped)


def _fernet_key(secret: bytes) -> bytes:
    """The Fernet key a secret stands for (HKDF-SHA256: a file's bytes need not be one)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
    return base64.urlsafe_b64encode(derived)


def _secret(path: Path) -> bytes:
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise UserError(f"cannot read seal key {path}: {exc.strerror or exc}") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise UserError(
            f"seal key {path} holds {len(secret)} bytes; it needs at least "
            f"{MIN_SECRET_BYTES} random ones (openssl rand -base64 48 > {path})"
        )
    return secret
