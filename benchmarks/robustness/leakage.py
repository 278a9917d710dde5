"""Leakage on the judged worlds: how much a campaign harvested before detect acted.

Recall counts accounts; an operator counts exchanges. A campaign caught on its seventh day
has kept most of what it came for, so the judge also reports, per world and campaign, the
share of its exchanges served before its account was flagged (leakage, as `distillguard
evaluate` measures it on one run: served at an hour before the linking tick that flagged
it; never flagged, all of them) and the hours from the campaign's first exchange to its
first flag; for the review tier, before the account was flagged or listed for review.

A world keeps its attack accounts' exchanges per hour for this (`attack_traffic`), read
from its lake once the replay is done: the detector never sees it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from benchmarks.robustness.measures import median_and_highest
from distillguard.ingest import Lake
from distillguard.ingest.lake import sql_path
from distillguard.store.duck import connect_utc

HOUR = np.timedelta64(1, "h")


def attack_traffic(lake: Lake, labels: Path) -> pa.Table:
    """The attack accounts' exchanges per hour (account_id, hour, n) in `lake`: what
    leakage is counted over. Hours are UTC, as the linking ticks are."""
    with connect_utc() as con:
        return con.sql(f"""
            SELECT e.account_id, date_trunc('hour', timezone('UTC', e.ts)) AS hour,
                   count(*)::BIGINT AS n
            FROM {lake.exchanges_sql()} e
              JOIN read_parquet('{sql_path(labels)}') l USING (account_id)
            WHERE l.label = 'attack'
            GROUP BY ALL ORDER BY 1, 2
        """).to_arrow_table()


@dataclass(frozen=True)
class CampaignLeak:
    exchanges: int
    leaked: int  # served before the account's first flag (all, for an account never flagged)
    hours_to_first: float | None  # from its first exchange's hour to its first flag; None: none

    @property
    def leakage(self) -> float:
        return self.leaked / self.exchanges if self.exchanges else float("nan")


def world_leakage(
    traffic: pa.Table, accounts: pa.Table, acted: dict[str, np.datetime64]
) -> dict[str, CampaignLeak]:
    """Per campaign of `accounts` (account_id, campaign), its leakage given the tick at
    which detect first acted on each account (`acted`; absent: never)."""
    campaign_of = dict(
        zip(accounts["account_id"].to_pylist(), accounts["campaign"].to_pylist(), strict=True)
    )
    ids = traffic["account_id"].to_pylist()
    unnamed = sorted({a for a in ids if not campaign_of.get(a)})
    if unnamed:  # left out, they would make the leakage look smaller than it is
        raise ValueError(f"attack traffic of accounts in no campaign: {unnamed[:3]}")
    never = np.datetime64("NaT", "us")
    hour = traffic["hour"].to_numpy().astype("datetime64[us]")
    at = np.array([acted.get(a, never) for a in ids], dtype="datetime64[us]")
    campaign = np.array([campaign_of[a] for a in ids], dtype=object)
    n = traffic["n"].to_numpy()
    return {
        c: _campaign_leak(n[mine], hour[mine], at[mine])
        for c in sorted(set(campaign.tolist()))
        for mine in [campaign == c]
    }


def _campaign_leak(n: np.ndarray, hour: np.ndarray, acted: np.ndarray) -> CampaignLeak:
    """One campaign's leakage from its hours' exchange counts and each hour's account's
    first flag (NaT: never; NaT compares false, so those hours count as served)."""
    served = np.isnat(acted) | (hour < acted)
    flags = acted[~np.isnat(acted)]
    hours = (flags.min() - hour.min()) / HOUR if len(flags) else None
    return CampaignLeak(int(n.sum()), int(n[served].sum()), None if hours is None else float(hours))


def pooled(leaks: dict[str, CampaignLeak], campaigns: frozenset[str]) -> float:
    """The leakage of `campaigns` together: their exchanges served over all of theirs."""
    chosen = [leak for c, leak in leaks.items() if c in campaigns]
    exchanges = sum(leak.exchanges for leak in chosen)
    return sum(leak.leaked for leak in chosen) / exchanges if exchanges else float("nan")


def _over_worlds(
    per_world: dict[int, dict[str, CampaignLeak]], campaign: str, field: str
) -> list[float]:
    """A campaign's `field` in each world that holds it (nan where it is None)."""
    values = [getattr(leaks[campaign], field) for leaks in per_world.values() if campaign in leaks]
    return [float("nan") if x is None else float(x) for x in values]


def _world_record(seed: int, leaks: dict[str, CampaignLeak], reported: frozenset[str]) -> Any:
    """One world's figures as the judge's record keeps them."""
    return {
        "seed": seed,
        "reported": pooled(leaks, reported),
        "campaigns": {c: {**asdict(leak), "leakage": leak.leakage} for c, leak in leaks.items()},
    }


def leakage_summary(
    per_world: dict[int, dict[str, CampaignLeak]], reported: frozenset[str]
) -> dict[str, Any]:
    """Median and worst over the worlds: the reported campaigns' pooled leakage, and each
    campaign's leakage and hours to its first flag (over the worlds where one came)."""
    campaigns = sorted({c for leaks in per_world.values() for c in leaks})
    fields = ("leakage", "hours_to_first")
    return {
        "reported": median_and_highest([pooled(x, reported) for x in per_world.values()]),
        "campaigns": {
            c: {f: median_and_highest(_over_worlds(per_world, c, f)) for f in fields}
            for c in campaigns
        },
        "per_world": [_world_record(s, leaks, reported) for s, leaks in per_world.items()],
    }
