"""What a detect run tells its user: the counts, and what the input lacked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from distillguard.detect.allowlist import Suppression
from distillguard.detect.config import DetectConfig
from distillguard.detect.results import AccountResult, ClusterResult
from distillguard.ingest import IngestSummary

NO_ACCOUNTS_TABLE = (
    "no payment, sign-up or tier data (no accounts table, or one without them), so that "
    "evidence went unused (give --accounts with log files, or ingest the lake with one)"
)


@dataclass(frozen=True)
class TickShortfall:
    """The log held fewer linking ticks than a combiner flag waits for (--flag-ticks)."""

    held: int
    needed: int
    peer: bool  # a peer's indicators were given: a strong match stands in for the ticks

    def text(self) -> str:
        who = "only an account with a strong peer indicator match" if self.peer else "no account"
        return (
            f"the log held {self.held} linking tick(s), fewer than the {self.needed} a flag "
            f"waits for (--flag-ticks): {who} could be flagged on its own evidence"
        )


@dataclass(frozen=True)
class DetectSummary:
    out: Path
    exchanges: int
    accounts: list[AccountResult]
    clusters: list[ClusterResult]
    findings: int
    seconds: dict[str, float] = field(default_factory=dict)
    suppressed: tuple[Suppression, ...] = ()
    ingested: IngestSummary | None = None  # when detect read log files, not a lake
    # when the log held fewer linking ticks than a combiner flag waits for: the user
    # should hear that the quiet result is the log's length, not its traffic
    short_of_ticks: TickShortfall | None = None
    # False when the input had no accounts table, or one with no payment, sign-up or tier
    # data: the result stands without them, which the user should hear rather than guess
    accounts_table: bool = True
    set_aside: str = ""  # damaged parts of the lake set aside, unread (set_aside_text)

    def line(self) -> str:
        flagged = sum(a.flagged for a in self.accounts)
        review = sum(a.review for a in self.accounts)
        return (
            f"detect: {self.exchanges:,} exchanges, {len(self.accounts):,} accounts, "
            f"{flagged:,} flagged, {review:,} for review, "
            f"{sum(c.flagged for c in self.clusters)} flagged clusters, "
            f"{self.findings} OCSF findings (findings.ocsf.jsonl){self._suppressed()} -> "
            f"{self.out}{self._quarantined()}"
            f"{self.ingested.skipped_text() if self.ingested else ''}{self._short()}"
            f"{'' if self.accounts_table else '; ' + NO_ACCOUNTS_TABLE}"
            f"{'; ' + self.set_aside if self.set_aside else ''}"
        )

    def _short(self) -> str:
        return "" if self.short_of_ticks is None else f"; {self.short_of_ticks.text()}"

    def _suppressed(self) -> str:
        n = len(self.suppressed)
        return f", {n} held back by the allowlist" if n else ""

    def _quarantined(self) -> str:
        ingested = self.ingested
        if ingested is None or not (ingested.quarantined or ingested.accounts_quarantined):
            return ""
        where = self.out / "lake" / "quarantine.jsonl"
        counts = [f"{ingested.quarantined:,} exchange row(s)"] if ingested.quarantined else []
        if ingested.accounts_quarantined:  # the same file holds them: its count says so
            counts.append(f"{ingested.accounts_quarantined:,} account row(s)")
        return f"; {' and '.join(counts)} quarantined, see {where}"


def ticks_shortfall(held: int, config: DetectConfig, *, peer: bool) -> TickShortfall | None:
    """What the summary says when the log held fewer linking ticks than a flag waits for
    (the rules decide each hour and wait for none)."""
    needed = config.combiner_flag_ticks
    short = config.decide_by == "combiner" and held < needed
    return TickShortfall(held, needed, peer) if short else None
