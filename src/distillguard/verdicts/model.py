"""A verdict: the action taken against an account or cluster, why, by whom, and until when."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from distillguard.errors import ConfigError, unknown_name_error
from distillguard.zoned import zoned_time

# The response ladder, mildest first: a higher rung wins when several apply.
ACTIONS = ("monitor", "throttle", "reverify", "degrade", "block_account", "block_cluster")
Source = Literal["detector", "analyst"]
SubjectKind = Literal["account", "cluster"]
SOURCES: tuple[str, ...] = get_args(Source)
_RANK = {"detector": 0, "analyst": 1}
_TTL = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_TTL_S = 5218 * 604800  # about 100 years: without a verdict's end, use no TTL at all


def check_action(name: str) -> str:
    if name not in ACTIONS:
        raise unknown_name_error("action", name, list(ACTIONS))
    return name


def severity(action: str) -> int:
    return ACTIONS.index(action)


def parse_ttl(text: str) -> timedelta:
    """`90s`, `15m`, `24h`, `7d`, `2w` as a duration."""
    match = _TTL.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ConfigError(f"bad duration {text!r}; use a positive number and s, m, h, d or w")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_TTL_S:  # an expiry past year 9999 cannot be written down
        raise ConfigError(f"duration {text!r} is too long; at most 100 years (5218w)")
    return timedelta(seconds=seconds)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Verdict:
    """One decision about one subject, with the evidence it rests on."""

    subject: str
    action: str
    reason: str
    source: Source
    created: datetime
    expires: datetime | None = None
    kind: SubjectKind = "account"
    evidence: str = ""
    cluster: str | None = None
    score: float | None = None

    def __post_init__(self) -> None:
        check_action(self.action)
        if self.source not in SOURCES:
            raise unknown_name_error("verdict source", self.source, list(SOURCES))
        if not self.subject:
            raise ConfigError("a verdict needs a subject")

    @property
    def key(self) -> str:
        """The store key: accounts and clusters live in separate namespaces."""
        return f"{self.kind}:{self.subject}"

    def live(self, at: datetime) -> bool:
        return self.expires is None or self.expires > at

    def outranks(self, other: Verdict) -> bool:
        """An analyst's verdict beats the detector's; within a source, the newest wins."""
        return (_RANK[self.source], self.created) > (_RANK[other.source], other.created)

    def to_json(self) -> dict[str, Any]:
        row = asdict(self)
        row["created"] = self.created.isoformat()
        row["expires"] = self.expires.isoformat() if self.expires else None
        return row

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Verdict:
        """A verdict from its JSON form; raises ValueError/TypeError/KeyError on a bad row.

        A stored row that fails the verdict's own checks (an action this version does not
        know, an empty subject) is a bad row too, not a setting to correct: readers skip
        and count it, so one such line never stops every lookup after it."""
        expires = row.get("expires")
        try:
            return cls(
                subject=str(row["subject"]),
                action=str(row["action"]),
                reason=str(row.get("reason", "")),
                source=row["source"],
                created=zoned_time(row["created"]),
                expires=zoned_time(expires) if expires else None,
                kind=row.get("kind", "account"),
                evidence=str(row.get("evidence", "")),
                cluster=row.get("cluster"),
                score=float(row["score"]) if row.get("score") is not None else None,
            )
        except ConfigError as exc:
            raise ValueError(str(exc)) from exc

    def with_expiry(self, ttl: timedelta | None) -> Verdict:
        return replace(self, expires=self.created + ttl if ttl else None)


def subject_key(subject: str, kind: SubjectKind = "account") -> str:
    return f"{kind}:{subject}"


def effective(candidates: list[Verdict], at: datetime) -> Verdict | None:
    """The verdict that applies now among one subject's verdicts from every source."""
    best: Verdict | None = None
    for verdict in candidates:
        if verdict.live(at) and (best is None or verdict.outranks(best)):
            best = verdict
    return best
