"""Dismissed accounts: an analyst's "false positive" remembered across detect runs.

An entry names the evidence an account was dismissed for. The next run does not flag that
account while any live entry covers its evidence (no rule beyond the dismissed ones): a new
kind of evidence flags it again, so a dismissal is never a blanket pass. The match is by
kind of evidence, not by strength: the same rules at ten times the volume stay dismissed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from distillguard.detect.results import AccountResult, ClusterResult
from distillguard.errors import UserError
from distillguard.zoned import zoned_time


@dataclass(frozen=True)
class AllowEntry:
    """One dismissal: who, why, for which evidence codes, until when."""

    account_id: str
    reason: str
    codes: frozenset[str]
    by: str
    created: datetime
    expires: datetime | None = None
    # A withdrawal: the account's earlier dismissals no longer hold (an analyst confirmed
    # or escalated the case after dismissing it). It dismisses nothing itself.
    withdrawn: bool = False

    def live(self, at: datetime) -> bool:
        return self.expires is None or self.expires > at

    def to_json(self) -> dict[str, Any]:
        row = {
            "account_id": self.account_id,
            "reason": self.reason,
            "codes": sorted(self.codes),
            "by": self.by,
            "created": self.created.isoformat(),
            "expires": self.expires.isoformat() if self.expires else None,
        }
        return row | ({"withdrawn": True} if self.withdrawn else {})

    @classmethod
    def from_json(cls, row: Any) -> AllowEntry:
        """An entry from its JSON form; ValueError, TypeError or KeyError on a bad one."""
        if not isinstance(row, dict):
            raise TypeError("not a JSON object")
        codes = row["codes"]
        # A bare string would iterate as letters, and dismiss nothing without a word.
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise TypeError("codes must be a list of evidence codes")
        expires = row.get("expires")
        return cls(
            str(row["account_id"]),
            str(row.get("reason", "")),
            frozenset(codes),
            str(row.get("by", "")),
            zoned_time(row["created"]),
            zoned_time(expires) if expires else None,
            row.get("withdrawn") is True,
        )


@dataclass(frozen=True)
class Suppression:
    """A flag the allowlist held back, with the entry that did it."""

    account_id: str
    codes: frozenset[str]
    entry: AllowEntry

    def detail(self) -> str:
        """Why the account's findings close: who dismissed it, and their reason."""
        who = f" by {self.entry.by}" if self.entry.by else ""
        why = f": {self.entry.reason}" if self.entry.reason else ""
        return f"dismissed{who}{why}"


def load_allowlist(path: Path) -> list[AllowEntry]:
    """The dismissals that stand, from a JSON-lines file in the order they were written (a
    withdrawal ends the account's earlier ones); a bad line, or no file (a mistyped path
    would flag every dismissed account again), is a one-line error naming it."""
    if not path.exists():
        raise UserError(f"no allowlist at {path} (the console keeps it as HOME/allowlist.jsonl)")
    return _standing(path, strict=True)


def standing_accounts(path: Path) -> set[str]:
    """The accounts with a standing dismissal, a bad line passed over (for the console,
    whose decisions must not fail on a line a hand edit broke; detect says it)."""
    return {e.account_id for e in _standing(path, strict=False)} if path.exists() else set()


def _standing(path: Path, *, strict: bool) -> list[AllowEntry]:
    entries: list[AllowEntry] = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = AllowEntry.from_json(orjson.loads(line))
        except (ValueError, TypeError, KeyError) as exc:
            if not strict:
                continue
            raise UserError(f"allowlist {path} line {number} is not an entry: {exc}") from None
        if entry.withdrawn:
            entries = [e for e in entries if e.account_id != entry.account_id]
        else:
            entries.append(entry)
    return entries


def append_allowlist(path: Path, entry: AllowEntry) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as handle:
        handle.write(orjson.dumps(entry.to_json()) + b"\n")


def evidence_codes(account: AccountResult, cluster: ClusterResult | None) -> frozenset[str]:
    """What an account is flagged for: its own rules, and its cluster's as `cluster.CODE`."""
    linked = [e.code for e in cluster.evidence] if cluster else []
    return flagged_for([e.code for e in account.evidence], linked)


def flagged_for(own: Iterable[str], cluster: Iterable[str]) -> frozenset[str]:
    """The evidence codes a dismissal is matched against: an account's own, and its
    cluster's as `cluster.CODE` (the console, detect and publish all read them so)."""
    return frozenset(own) | frozenset(f"cluster.{c}" for c in cluster)


@dataclass(frozen=True)
class Allowed:
    """A run's results with the dismissed flags lifted, and what was lifted."""

    accounts: list[AccountResult]
    clusters: list[ClusterResult]
    suppressed: list[Suppression]


def covering(
    entries: list[AllowEntry], account: str, codes: frozenset[str], at: datetime
) -> AllowEntry | None:
    """A live entry for the account whose dismissed evidence covers `codes`, if any."""
    return next(
        (e for e in entries if e.account_id == account and e.live(at) and codes <= e.codes),
        None,
    )


def apply_allowlist(
    accounts: list[AccountResult],
    clusters: list[ClusterResult],
    entries: list[AllowEntry],
    at: datetime | None = None,
) -> Allowed:
    """Lift the flags a live dismissal covers; a lifted account also leaves its cluster, so
    no cluster verdict or finding reaches it either."""
    at = at or datetime.now(UTC)
    by_cluster = {c.cluster_id: c for c in clusters}
    kept: list[AccountResult] = []
    lifted: list[Suppression] = []
    for account in accounts:
        codes = evidence_codes(account, by_cluster.get(account.cluster_id or ""))
        entry = covering(entries, account.account_id, codes, at)
        if entry is None or not (account.flagged or account.review):
            kept.append(account)
            continue
        lifted.append(Suppression(account.account_id, codes, entry))
        kept.append(
            replace(
                account,
                flagged=False,
                flagged_by="",
                first_flagged_at=None,
                first_review_at=None,
                cluster_id=None,
            )
        )
    gone = {s.account_id for s in lifted}
    remaining = [
        replace(c, accounts=tuple(a for a in c.accounts if a not in gone)) for c in clusters
    ]
    return Allowed(kept, [c for c in remaining if c.accounts], lifted)
