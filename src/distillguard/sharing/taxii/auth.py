"""HTTP Basic credentials for the TAXII server: PBKDF2 hashes in a users file.

The file maps each user to `pbkdf2_sha256$iterations$salt$hash`, or to
`{"hash": ..., "identity": "identity--UUID"}` for a member bound to the STIX identity it
publishes as (then no other member may publish as it: see TaxiiStore.add); passwords are
never stored or logged. A verified (user, password) pair is remembered as its SHA-256, so
a client's every request does not pay for PBKDF2 again.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import secrets
import threading
from pathlib import Path

from distillguard.errors import UserError
from distillguard.secret_file import write_private
from distillguard.sharing import stix
from distillguard.sharing.taxii.validity import IDENTITY

ITERATIONS = 200_000
# Identities no member may own, with why: every member's bundles carry them.
NEVER_BOUND = {
    stix.producer(stix.DEFAULT_PRODUCER).id: (
        "the producer every member exports as without --producer: export with "
        "--producer NAME and bind the identity it prints"
    ),
    stix.producer(stix.DEFAULT_PEER).id: (
        "the name every member's sightings carry without --producer: match with "
        "--producer NAME and bind the identity it prints"
    ),
    stix.PROJECT.id: "the project's own identity, which every bundle carries",
}


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
    def __init__(self, hashes: dict[str, str], identities: dict[str, str] | None = None) -> None:
        self._hashes = hashes
        self._identities = identities or {}  # user -> the STIX identity it is bound to
        holders: dict[str, set[str]] = {}
        for user, identity in self._identities.items():
            holders.setdefault(identity, set()).add(user)
        # The file is read once: every push is checked against the same bindings.
        self._bound = {identity: frozenset(users) for identity, users in holders.items()}
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
        entries = doc.items() if isinstance(doc, dict) else []
        parsed = [(user, _entry(value)) for user, value in entries]
        if not isinstance(doc, dict) or any(entry is None for _, entry in parsed):
            raise UserError(f"{path} is not a users file (JSON of user to password hash)")
        for user, entry in parsed:
            if entry and entry[1] in NEVER_BOUND:
                raise UserError(f"{path}: {user} is bound to {entry[1]}, {NEVER_BOUND[entry[1]]}")
        hashes = {user: entry[0] for user, entry in parsed if entry}
        identities = {user: entry[1] for user, entry in parsed if entry and entry[1]}
        return cls(hashes, identities)

    def identity_of(self, user: str) -> str | None:
        """The STIX identity `user` is bound to, if any."""
        return self._identities.get(user)

    def bound(self) -> dict[str, frozenset[str]]:
        """Each bound STIX identity and the members who may publish as it."""
        return dict(self._bound)

    def known(self, user: str, password: str) -> bool:
        """Whether this pair was verified before: no PBKDF2 for a client's every request."""
        stored = self._hashes.get(user)
        with self._lock:
            return stored is not None and _token(user, password, stored) in self._verified

    def verify(self, user: str, password: str) -> bool:
        """PBKDF2 (a tenth of a second: run it off the event loop), for an unknown user
        too, against a hash of no one's, so the time taken does not tell who exists."""
        stored = self._hashes.get(user)
        if not _check(password, stored or _no_ones_hash()) or stored is None:
            return False
        with self._lock:
            self._verified.add(_token(user, password, stored))
        return True


def credentials(header: str | None) -> tuple[str, str] | None:
    """(user, password) of a Basic `Authorization` header, or None."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def _token(user: str, password: str, stored: str) -> str:
    return hashlib.sha256(f"{user}\0{password}\0{stored}".encode()).hexdigest()


@functools.cache
def _no_ones_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def _entry(value: object) -> tuple[str, str | None] | None:
    """(hash, bound identity or None) of a users file's value; None if it is neither a
    hash nor {"hash": ..., "identity": "identity--UUID"}."""
    if isinstance(value, str):
        return value, None
    if not isinstance(value, dict) or not isinstance(value.get("hash"), str):
        return None
    identity = value.get("identity")
    if identity is not None and not (isinstance(identity, str) and IDENTITY.fullmatch(identity)):
        return None
    return value["hash"], identity.lower() if identity else None


MIN_PASSWORD = 8  # as the console asks of its users


def _check_login(user: str, password: str) -> None:
    """A user HTTP Basic can carry (a name without ':' or control characters, not empty)
    and a password of some length: else a user who can never log in, or one who can
    with almost anything."""
    if not user.strip() or user != user.strip() or ":" in user or not user.isprintable():
        raise UserError(
            f"bad user name {user!r}: not blank, no spaces around it, no ':' (Basic auth "
            "ends the name there)"
        )
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password needs at least {MIN_PASSWORD} characters")


def add_user(path: Path, user: str, password: str, identity: str | None = None) -> None:
    """Add or replace one user's password hash in a users file (created owner-only),
    bound to `identity` if given (a user bound before keeps its identity)."""
    _check_login(user, password)
    if identity is not None and not IDENTITY.fullmatch(identity):
        raise UserError(f"bad identity {identity!r}: a STIX id, identity--UUID")
    if identity is not None and identity.lower() in NEVER_BOUND:
        raise UserError(f"{identity} is {NEVER_BOUND[identity.lower()]}")
    if path.exists():
        Users.load(path)  # a file that is not a users file is refused, never overwritten
    doc = json.loads(path.read_text()) if path.exists() else {}
    before = _entry(doc.get(user)) if user in doc else None
    identity = identity.lower() if identity else (before[1] if before else None)
    entry = hash_password(password)
    doc[user] = {"hash": entry, "identity": identity} if identity else entry
    write_private(path, json.dumps(doc, indent=2).encode())
