"""HTTP Basic credentials for the TAXII server: PBKDF2 hashes in a users file.

The file maps each user to `pbkdf2_sha256$iterations$salt$hash`; passwords are never stored
or logged. A verified (user, password) pair is remembered as its SHA-256, so a client's
every request does not pay for PBKDF2 again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
from pathlib import Path

from distillguard.errors import UserError

ITERATIONS = 200_000


def hash_password(password: str, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${digest.hex()}"


def _check(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
        computed = hashlib.pbkdf2_hmac(
            "sha256", password.encode(), bytes.fromhex(salt), int(iterations)
        )
    except ValueError:
        return False
    return scheme == "pbkdf2_sha256" and hmac.compare_digest(computed.hex(), digest)


class Users:
    def __init__(self, hashes: dict[str, str]) -> None:
        self._hashes = hashes
        self._verified: set[str] = set()
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path) -> Users:
        try:
            doc = json.loads(path.read_text())
        except FileNotFoundError:
            raise UserError(f"users file not found: {path}") from None
        except (OSError, ValueError):
            raise UserError(f"{path} is not a users file (JSON of user to password hash)") from None
        if not isinstance(doc, dict) or not all(isinstance(v, str) for v in doc.values()):
            raise UserError(f"{path} is not a users file (JSON of user to password hash)")
        return cls(dict(doc))

    def check_header(self, header: str | None) -> str | None:
        """The user a Basic `Authorization` header proves, or None."""
        if not header or not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        stored = self._hashes.get(user)
        if stored is None:
            return None
        token = hashlib.sha256(f"{user}\0{password}\0{stored}".encode()).hexdigest()
        with self._lock:
            if token in self._verified:
                return user
        if not _check(password, stored):
            return None
        with self._lock:
            self._verified.add(token)
        return user


def add_user(path: Path, user: str, password: str) -> None:
    """Add or replace one user's password hash in a users file (created owner-only)."""
    doc = json.loads(path.read_text()) if path.exists() else {}
    doc[user] = hash_password(password)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))
