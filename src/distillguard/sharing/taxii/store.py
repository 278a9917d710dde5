"""The TAXII server's store: collections and STIX objects in one DuckDB file.

Every object version is kept with the time it was added, unique and increasing, so a
client paging by `added_after` never skips or repeats an object. DuckDB connections are not
shared between threads: each call takes a cursor under a lock.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from distillguard.sharing import stix
from distillguard.sharing.taxii.validity import malformed
from distillguard.store.duck import connect_or_say

_SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
  id VARCHAR PRIMARY KEY, title VARCHAR, description VARCHAR);
CREATE TABLE IF NOT EXISTS objects (
  collection_id VARCHAR, id VARCHAR, type VARCHAR, version VARCHAR,
  date_added TIMESTAMPTZ, body VARCHAR, PRIMARY KEY (collection_id, id, version));
ALTER TABLE objects ADD COLUMN IF NOT EXISTS added_by VARCHAR;
"""


# The producers every member's objects name unless given --producer (lower case, as
# _creator compares): their ids are every member's, so a clash there needs a name.
_SHARED_DEFAULTS = frozenset(
    stix.producer(name).id.lower() for name in (stix.DEFAULT_PRODUCER, stix.DEFAULT_PEER)
)


# Who added the objects the server holds from its start (stix.common_objects): a Basic
# auth user name never holds a colon, so no member can be this one.
SERVER = "server:"


@dataclass(frozen=True)
class Page:
    objects: list[dict[str, Any]]
    added: list[datetime]  # when each object was added
    more: bool
    first_added: datetime | None
    last_added: datetime | None


@dataclass(frozen=True)
class AddResult:
    added: int
    duplicates: int
    failed: list[tuple[str, str, str]]  # (object id, version, why)


def stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str) -> datetime:
    """A TAXII timestamp in UTC; a ValueError for one that is not, or that UTC cannot
    hold (9999-12-31T23:59:59-23:59 was an OverflowError and a 500)."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value!r} is out of range in UTC") from None


def _claims(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """(identity, how) for each identity an object speaks as: its creator, and an
    identity object itself (which would rename it); ids compared in lower case."""
    named = [(obj.get("created_by_ref"), "created by another member's identity")]
    if obj["type"] == "identity":
        named.append((obj["id"], "another member's identity"))
    return [(str(identity).lower(), how) for identity, how in named if identity]


def _speaks_as_another(
    obj: dict[str, Any], user: str | None, bound: Mapping[str, frozenset[str]]
) -> str | None:
    """Why an object speaks as an identity bound to other members. Unbound identities
    (the project's, the TLP markings' producer) any member may carry."""
    for identity, how in _claims(obj):
        if identity in bound and user not in bound[identity]:
            return how
    return None


def _creator(obj: dict[str, Any]) -> str:
    return str(obj.get("created_by_ref") or "").lower()


def _speaks_as_own(
    obj: dict[str, Any], user: str | None, bound: Mapping[str, frozenset[str]]
) -> bool:
    """Whether the object speaks as an identity bound to `user`: its versions are the
    member's to add, even where another member pushed the first before the binding."""
    return any(user in bound.get(identity, ()) for identity, _ in _claims(obj))


def _versions_clause(versions: Sequence[str]) -> tuple[str, list[str]]:
    """SQL picking the versions TAXII's match[version] names, and its parameters. Each of
    `first` and `last` costs one subquery however often it is named, and timestamps one
    IN list: a request naming them a hundred times costs no more than naming them once."""
    wanted = set(versions) or {"last"}
    if "all" in wanted:
        return "TRUE", []
    own = "(SELECT {} FROM objects v WHERE v.collection_id = o.collection_id AND v.id = o.id)"
    parts = [f"version = {own.format(f'{e}(version)')}" for k, e in _ENDS.items() if k in wanted]
    stamps = sorted(wanted - set(_ENDS))
    if stamps:
        parts.append(f"version IN ({', '.join('?' * len(stamps))})")
    return " OR ".join(parts), stamps


_ENDS = {"first": "min", "last": "max"}


def version_of(obj: dict[str, Any]) -> str:
    return str(obj.get("modified") or obj.get("created") or "")


class TaxiiStore:
    def __init__(self, path: Path | str = ":memory:") -> None:
        self._con = connect_or_say(
            str(path),
            f"another process holds the TAXII store {path} (a share serve already "
            "running on it?): stop it, or give this one another --store",
        )
        self._lock = threading.Lock()
        self._last = datetime.fromtimestamp(0, UTC)
        with self._lock:
            self._con.execute(_SCHEMA)
            ((last,),) = self._con.execute("SELECT max(date_added) FROM objects").fetchall()
            if last is not None:
                self._last = last.astimezone(UTC)

    def add_collection(self, title: str, description: str = "") -> str:
        """A new collection's id (a fresh UUID), or the existing one of that title."""
        with self._lock:
            found = self._con.execute(
                "SELECT id FROM collections WHERE title = ?", [title]
            ).fetchall()
            if found:
                return str(found[0][0])
            cid = str(uuid.uuid4())
            self._con.execute("INSERT INTO collections VALUES (?, ?, ?)", [cid, title, description])
            return cid

    def collections(self) -> list[dict[str, str]]:
        with self._lock:
            rows = self._con.execute("SELECT * FROM collections ORDER BY title").fetchall()
        return [{"id": r[0], "title": r[1], "description": r[2]} for r in rows]

    def _next_time(self) -> datetime:
        """A date_added after every earlier one, even within one microsecond."""
        now = datetime.now(UTC)
        self._last = max(now, self._last + timedelta(microseconds=1))
        return self._last

    def add(
        self,
        collection_id: str,
        objects: list[Any],
        user: str | None = None,
        bound: Mapping[str, frozenset[str]] | None = None,
    ) -> AddResult:
        """Store each object version; `user`: the member who pushed them (the server's
        authenticated user), who alone may add later versions of an object; `bound`: the
        STIX identities bound to members (Users.bound), whom alone they may speak as."""
        added, duplicates, failed = 0, 0, []
        holders = {identity.lower(): users for identity, users in (bound or {}).items()}
        with self._lock:
            for obj in objects:
                problem = malformed(obj) or _speaks_as_another(obj, user, holders)
                held = None if problem else self._held(collection_id, obj)
                if held is not None and held == obj:  # (None == None: a null object)
                    duplicates += 1  # a copy of a version already held: nothing to check
                    continue
                if held is not None:  # the first body of a version stands, whoever sent it
                    problem = "another body for a version already held"
                problem = problem or self._not_theirs(collection_id, obj, user, holders)
                if problem:
                    named = obj if isinstance(obj, dict) else {}
                    failed.append((str(named.get("id", "")), version_of(named), problem))
                    continue
                self._con.execute(
                    "INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [collection_id, obj["id"], obj["type"], version_of(obj), self._next_time(),
                     json.dumps(obj), user],
                )  # fmt: skip
                added += 1
        return AddResult(added, duplicates, failed)

    def _held(self, collection_id: str, obj: dict[str, Any]) -> dict[str, Any] | None:
        """The body held for this version of the object, if any (the project's identity
        and extension definitions, the TLP markings: every member's bundle carries them)."""
        rows = self._con.execute(
            "SELECT body FROM objects WHERE collection_id = ? AND id = ? AND version = ?",
            [collection_id, obj["id"], version_of(obj)],
        ).fetchall()
        return dict(json.loads(rows[0][0])) if rows else None

    def _not_theirs(
        self,
        collection_id: str,
        obj: dict[str, Any],
        user: str | None,
        holders: Mapping[str, frozenset[str]],
    ) -> str | None:
        """A new version keeps the first's creator (STIX) and comes from the member who
        pushed the first, or from a member bound to the identity the first speaks as:
        any member may push, but not over another's indicators. (created_by_ref is no
        proof: anyone who pulled the object can copy it.)"""
        rows = self._con.execute(
            "SELECT added_by, body FROM objects WHERE collection_id = ? AND id = ? "
            "ORDER BY date_added LIMIT 1",
            [collection_id, obj["id"]],
        ).fetchall()
        if not rows:
            return None
        owner, body = rows[0]
        first = json.loads(body)
        if _creator(first) != _creator(obj):
            return "a version of another producer's object"
        if _speaks_as_own(first, user, holders) or owner in (None, user):
            return None  # None: stored before members were recorded; the creator decides
        if _creator(obj) in _SHARED_DEFAULTS:  # two members' sightings under one name
            return (
                "a version of another member's object, made under the default producer "
                "every member shares: export or match with --producer NAME"
            )
        return "a version of another member's object"

    def page(
        self,
        collection_id: str,
        *,
        added_after: datetime | None,
        limit: int,
        object_id: str | None = None,
        types: list[str] | None = None,
        versions: Sequence[str] = ("last",),
    ) -> Page:
        """The versions asked for (TAXII's match[version]: `last`, the default, `first`,
        `all`, or a version's timestamp; any of several) of each object added after
        `added_after`, oldest first."""
        chosen, params = _versions_clause(versions), [collection_id]
        where = ["collection_id = ?"]
        if added_after is not None:
            where.append("date_added > ?")
            params.append(added_after)  # type: ignore[arg-type]
        if object_id is not None:
            where.append("id = ?")
            params.append(object_id)
        if types:
            where.append(f"type IN ({', '.join('?' * len(types))})")
            params.extend(types)
        sql = (
            "SELECT body, date_added FROM objects o WHERE "
            + " AND ".join(where)
            + f" AND ({chosen[0]}) ORDER BY date_added, id LIMIT {int(limit) + 1}"
        )
        with self._lock:
            rows = self._con.execute(sql, [*params, *chosen[1]]).fetchall()
        more, rows = len(rows) > limit, rows[:limit]
        return Page(
            [json.loads(r[0]) for r in rows],
            [r[1].astimezone(UTC) for r in rows],
            more,
            rows[0][1].astimezone(UTC) if rows else None,
            rows[-1][1].astimezone(UTC) if rows else None,
        )

    def close(self) -> None:
        with self._lock:
            self._con.close()
