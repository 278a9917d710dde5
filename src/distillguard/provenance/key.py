"""The secret watermark key: generated, saved, loaded, and the keyed choice it makes."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from distillguard.errors import UserError
from distillguard.provenance.groups import SynonymGroup
from distillguard.secret_file import warn_if_shared, write_private

_MAKE = "distillguard provenance keygen --out FILE"
KEY_KIND = "distillguard-provenance-key"
_SECRET_BYTES = 32
_PERSON = b"dg-prov-v1"


@dataclass(frozen=True, repr=False)
class WatermarkKey:
    """32 secret bytes. repr never shows them, so a key cannot leak into a log by accident."""

    secret: bytes

    def __repr__(self) -> str:
        return f"WatermarkKey(id={self.key_id})"

    @classmethod
    def generate(cls, seed: int | None = None) -> WatermarkKey:
        """A fresh random key; a `seed` gives a reproducible one (tests and benchmarks only)."""
        if seed is None:
            return cls(secrets.token_bytes(_SECRET_BYTES))
        return cls(hashlib.blake2b(f"seed:{seed}".encode(), digest_size=_SECRET_BYTES).digest())

    @property
    def key_id(self) -> str:
        """A public fingerprint that names the key without revealing it."""
        return hashlib.blake2b(self.secret, digest_size=6, person=b"dg-prov-id").hexdigest()

    def uniform(self, group: SynonymGroup, context: str) -> float:
        """A keyed pseudo-random number in [0, 1) for one (group, context): BLAKE2b as a PRF."""
        message = f"{group.name}\x1f{context}".encode()
        digest = hashlib.blake2b(message, key=self.secret, digest_size=8, person=_PERSON).digest()
        return int.from_bytes(digest, "big") / 2.0**64

    def choose(self, group: SynonymGroup, context: str) -> int:
        """The member this key uses in `context`: drawn with the members' natural shares, so
        that over many contexts each word keeps its usual frequency."""
        u = self.uniform(group, context)
        cumulative = 0.0
        for i, share in enumerate(group.shares):
            cumulative += share
            if u < cumulative:
                return i
        return len(group.shares) - 1

    def save(self, path: Path) -> None:
        """Write the key readable by its owner only."""
        body = json.dumps({"kind": KEY_KIND, "version": 1, "secret": self.secret.hex()})
        write_private(path, (body + "\n").encode())

    @classmethod
    def load(cls, path: Path) -> WatermarkKey:
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise UserError(f"key file not found: {path}") from None
        except OSError as exc:
            raise UserError(f"cannot read key file {path}: {exc.strerror or exc}") from None
        except (ValueError, RecursionError):  # not JSON (never echo a secret's bytes), or
            data = None  # numbers too long to read, nesting too deep
        if not isinstance(data, dict) or data.get("kind") != KEY_KIND:
            raise UserError(f"{path} is not a distillguard provenance key (make one: {_MAKE})")
        if data.get("version", 1) != 1:  # its value is not echoed: it may be a pasted secret
            raise UserError(f"{path}: a key of another version; this distillguard reads version 1")
        try:
            secret = bytes.fromhex(str(data["secret"]))
        except (KeyError, ValueError):
            raise UserError(f"{path}: the key's secret is missing or not hex") from None
        if len(secret) != _SECRET_BYTES:
            raise UserError(f"{path}: the key's secret must be {_SECRET_BYTES} bytes")
        warn_if_shared(path, "provenance key")
        return cls(secret)
