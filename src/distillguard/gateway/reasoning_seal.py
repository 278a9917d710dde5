"""Withheld reasoning, sealed for the client to carry back.

Anthropic signs each thinking block, and a client in a tool loop must send the blocks of
its unfinished turn back unmodified (text and signature), or the API refuses the request.
Degrade withholds the thinking text from a suspect account, which would break such loops
for an innocent one. So the withheld block's signature field carries the original block
and the account it was served to, encrypted and authenticated under the gateway's key
(Fernet: AES-128-CBC with HMAC-SHA256). When that account's request brings the block back
within the current tool-use cycle (the assistant turns after its last prompt that carries
no tool result) and within SEAL_TTL_S, the gateway puts the original back before
calling upstream. Anywhere else, or sealed for another account, under a key the gateway
no longer holds (a restart without --seal-key) or long ago, the block is left out, which
the API accepts for every turn but an unfinished tool call's.

What this leaves open: the model, given its thinking back, can be asked in the next tool
result to restate it. That costs an attacker a request for what one answer holds under
degrade's output cap; withholding without restoring would break every degraded customer's
tool loops. Only a request the response ladder lets through is opened, and at most
MAX_OPENED sealed blocks of it (the rest are left out unopened), so sending many costs
the gateway little.
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

from distillguard.errors import ConfigError
from distillguard.secret_file import read_secret

SEAL_PREFIX = "distillguard-sealed-v1."
MIN_SECRET_BYTES = 32
SEAL_TTL_S = 6 * 3600  # a tool call's result comes back within hours, not days
MAX_OPENED = 32  # per request: more is not a tool loop, and each costs a decryption
_INFO = b"distillguard reasoning seal v1"


@dataclass(frozen=True)
class Restored:
    """What restoring a request's sealed blocks did."""

    restored: int = 0
    dropped: int = 0  # outside the tool-use cycle, another account's, stale or altered

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

    def seal(self, block: dict[str, Any], account: str) -> str:
        """The signature a withheld block is served with: the block itself and the account
        it is served to, sealed."""
        sealed = self._fernet.encrypt(orjson.dumps({"account": account, "block": block}))
        return SEAL_PREFIX + sealed.decode("ascii")

    def open_one(self, block: Any, account: str) -> tuple[Any, bool | None]:
        """(the block to send upstream, or None to leave it out; True restored, False
        dropped, None not a block a gateway sealed)."""
        if not isinstance(block, dict) or block.get("type") != "thinking":
            return block, None
        signature = block.get("signature")
        if not isinstance(signature, str) or not signature.startswith(SEAL_PREFIX):
            return block, None
        try:
            token = signature[len(SEAL_PREFIX) :]
            sealed = orjson.loads(self._fernet.decrypt(token, ttl=SEAL_TTL_S))
        except (InvalidToken, orjson.JSONDecodeError, ValueError):
            return None, False
        if not isinstance(sealed, dict) or sealed.get("account") != account:
            return None, False
        return sealed.get("block"), True

    def restore_many(self, body: dict[str, Any], account: str) -> Restored:
        """Put back, in place, the sealed blocks of the account's current tool-use cycle;
        leave out every other sealed block."""
        messages = body.get("messages")
        if not isinstance(messages, list):
            return Restored()
        cycle_start = _cycle_start(messages)
        restored = dropped = opened = 0
        # newest first: the unfinished call's thinking, which the API requires, is opened
        # before the cap can run out on a long cycle's earlier steps
        for index in range(len(messages) - 1, -1, -1):
            message = messages[index]
            content = message.get("content") if isinstance(message, dict) else None
            if not isinstance(content, list) or not any(map(_sealed, content)):
                continue
            kept = []
            for block in content:
                # every block opened counts, failed ones too (each costs a check); blocks
                # left out unopened, an earlier turn's, cost nothing and do not count
                opens = index >= cycle_start and opened < MAX_OPENED and _sealed(block)
                sent, outcome = self.open_one(block, account) if opens else _left_out(block)
                opened += opens
                restored += outcome is True
                dropped += outcome is False
                kept.extend([] if sent is None else [sent])
            message["content"] = kept
        return Restored(restored, dropped)


def _sealed(block: Any) -> bool:
    signature = block.get("signature") if isinstance(block, dict) else None
    return isinstance(signature, str) and signature.startswith(SEAL_PREFIX)


def _left_out(block: Any) -> tuple[Any, bool | None]:
    """A sealed block outside the cycle goes, unopened; any other block stays."""
    return (None, False) if _sealed(block) else (block, None)


def _cycle_start(messages: list[Any]) -> int:
    """The index after the last user message that carries no tool result: the assistant
    turns from there on are the unfinished tool-use cycle. A message that answers tool
    calls continues the cycle even with text beside its results (agents add reminders)."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            blocks = content if isinstance(content, list) else [content]
            if not any(isinstance(b, dict) and b.get("type") == "tool_result" for b in blocks):
                return index + 1
    return 0


def _fernet_key(secret: bytes) -> bytes:
    """The Fernet key a secret stands for (HKDF-SHA256: a file's bytes need not be one)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
    return base64.urlsafe_b64encode(derived)


def _secret(path: Path) -> bytes:
    hint = f" (make one: openssl rand -base64 48 > {path})"
    return read_secret(path, "seal key", MIN_SECRET_BYTES, hint)
