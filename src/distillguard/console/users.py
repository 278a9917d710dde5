"""Console users: argon2-hashed passwords and a role each, in a JSON file beside the state.

Roles, least first: a viewer sees the queue and evidence with prompts redacted; an analyst
also sees content and decides; an admin may do everything an analyst may.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from distillguard.console.security import private_home
from distillguard.errors import ConfigError, unknown_name_error
from distillguard.secret_file import write_private

log = logging.getLogger("distillguard.console")

ROLES = ("viewer", "analyst", "admin")
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_HASHER = PasswordHasher()
# A hash to verify against when the name is unknown, so a wrong name costs the same time
# as a wrong password and does not reveal which names exist.
_DUMMY = _HASHER.hash("distillguard-no-such-user")


@dataclass(frozen=True)
class User:
    name: str
    role: str

    @property
    def sees_content(self) -> bool:
        return self.role in ("analyst", "admin")

    @property
    def decides(self) -> bool:
        return self.role in ("analyst", "admin")


class UserStore:
    """Users in a JSON file: {name: {"role": ..., "hash": ...}}, written atomically.

    The file is read at every login and request, so a user added is in at once. A file
    edited by hand into something unusable keeps the users read before it (one error in
    the log), instead of failing every page with a 500; a console that never read a good
    file does not start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._good: dict[str, dict[str, str]] | None = None
        self._said: str | None = None

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            self._good, self._said = self._parse(), None
        except ConfigError as exc:
            if self._good is None:
                raise
            if str(exc) != self._said:
                log.error("%s: the console keeps the users it read before", exc)
                self._said = str(exc)
        return self._good

    def _parse(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        where = f"console users file {self.path}"
        try:
            data = orjson.loads(self.path.read_bytes())
        except (orjson.JSONDecodeError, OSError) as exc:
            raise ConfigError(f"{where} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected an object of users")
        for name, row in data.items():
            if not isinstance(row, dict) or not isinstance(row.get("hash"), str):
                raise ConfigError(f"{where}: user {name!r} has no password hash")
            if row.get("role") not in ROLES:
                role = str(row.get("role"))
                raise ConfigError(
                    f"{where}: user {name!r}: {unknown_name_error('role', role, list(ROLES))}"
                )
        return data

    def add(self, name: str, role: str, password: str) -> User:
        """Create or replace a user; the password is stored only as an argon2 hash."""
        if role not in ROLES:
            raise unknown_name_error("role", role, list(ROLES))
        if not _NAME.match(name):
            raise ConfigError(f"bad user name {name!r}: letters, digits and . _ @ - only")
        if len(password) < 8:
            raise ConfigError("the password needs at least 8 characters")
        users = self._parse()  # a broken file is said, not written over
        users[name] = {"role": role, "hash": _HASHER.hash(password)}
        private_home(self.path.parent)
        write_private(self.path, orjson.dumps(users, option=orjson.OPT_INDENT_2))
        return User(name, role)

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password matches; None otherwise, in about the same time."""
        row = self._read().get(name)
        try:
            _HASHER.verify(row["hash"] if row else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(name, row["role"]) if row else None

    def get(self, name: str) -> User | None:
        row = self._read().get(name)
        return User(name, row["role"]) if row else None

    def names(self) -> list[str]:
        return sorted(self._read())
