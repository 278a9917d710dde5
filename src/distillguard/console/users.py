"""Console users: argon2-hashed passwords and a role each, in a JSON file beside the state.

Roles, least first: a viewer sees the queue and evidence with prompts redacted; an analyst
also sees content and decides; an admin may do everything an analyst may.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    credential: str = ""  # names the password hash the user was read with (see _credential)

    @property
    def sees_content(self) -> bool:
        return self.role in ("analyst", "admin")

    @property
    def decides(self) -> bool:
        return self.role in ("analyst", "admin")


class UserStore:
    """Users in a JSON file: {name: {"role": ..., "hash": ...}}, written atomically.

    The file is read at every login and request, so a user added, removed or demoted by
    hand counts at once. A hand edit that breaks an entry fails closed: that user cannot
    log in (the others can), and a file that is not a JSON object lets nobody in, each said
    once in the log, never a 500. `check` refuses either at start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._said: str | None = None

    def check(self) -> None:
        """Raise on a file that is not usable whole (the console's start, add-user)."""
        _, problems = self._parse()
        if problems:
            raise ConfigError(f"console users file {self.path}: {'; '.join(problems)}")

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            users, problems = self._parse()
        except ConfigError as exc:
            self._say(f"{exc}: nobody can log in until it is mended")
            return {}
        if problems:
            self._say(f"console users file {self.path}: {'; '.join(problems)}: not let in")
        return users

    def _say(self, problem: str) -> None:
        if problem != self._said:
            log.error("%s", problem)
            self._said = problem

    def _parse(self) -> tuple[dict[str, dict[str, str]], list[str]]:
        """The usable users, and what is wrong with the others."""
        if not self.path.exists():
            return {}, []
        where = f"console users file {self.path}"
        try:
            data = orjson.loads(self.path.read_bytes())
        except (orjson.JSONDecodeError, OSError) as exc:
            raise ConfigError(f"{where} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected an object of users")
        users, problems = {}, []
        for name, row in data.items():
            if not isinstance(row, dict) or not isinstance(row.get("hash"), str):
                problems.append(f"user {name!r} has no password hash")
            elif row.get("role") not in ROLES:
                role = str(row.get("role"))
                problems.append(f"user {name!r}: {unknown_name_error('role', role, list(ROLES))}")
            else:
                users[name] = row
        return users, problems

    def add(self, name: str, role: str, password: str) -> User:
        """Create or replace a user; the password is stored only as an argon2 hash."""
        if role not in ROLES:
            raise unknown_name_error("role", role, list(ROLES))
        if not _NAME.match(name):
            raise ConfigError(f"bad user name {name!r}: letters, digits and . _ @ - only")
        if len(password) < 8:
            raise ConfigError("the password needs at least 8 characters")
        self.check()  # a broken file is said, not written over
        users, _ = self._parse()
        users[name] = {"role": role, "hash": _HASHER.hash(password)}
        private_home(self.path.parent)
        write_private(self.path, orjson.dumps(users, option=orjson.OPT_INDENT_2))
        return User(name, role, _credential(users[name]))

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password matches; None otherwise, in about the same time."""
        row = self._read().get(name)
        try:
            _HASHER.verify(row["hash"] if row else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        return _user(name, row) if row else None

    def get(self, name: str) -> User | None:
        row = self._read().get(name)
        return _user(name, row) if row else None

    def holding(self, name: str, credential: str) -> User | None:
        """The user, if its password is still the one `credential` names: a session opened
        before a password change (or a removal and a new add) is no longer its user's."""
        row = self._read().get(name)
        return _user(name, row) if row and _credential(row) == credential else None

    def names(self) -> list[str]:
        return sorted(self._read())


def _user(name: str, row: dict[str, Any]) -> User:
    return User(name, row["role"], _credential(row))


def _credential(row: dict[str, Any]) -> str:
    """A name for a user's password hash (not the hash), kept by its sessions."""
    return hashlib.sha256(str(row["hash"]).encode()).hexdigest()[:32]
