"""The metrics of ARCHITECTURE.md, defined once: recall, precision, false-positive rates,
per-campaign recall and capture, leakage, time to detect, and cost to the attacker."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from distillguard.detect.signals_stage import signals_sql
from distillguard.errors import UserError
from distillguard.evaluate.labels import check_labels, create_labels_view
from distillguard.evaluate.operating_point import (
    OperatingPoint,
    TierRates,
    operating_point,
    share,
    tier_rates,
)
from distillguard.ingest.inputs import simulated_parts
from distillguard.ingest.lake import Lake, connect, fetch_one, sql_path

CAUGHT_SHARE = 0.5  # a campaign is caught when most of its accounts are flagged


@dataclass(frozen=True)
class CampaignMetrics:
    campaign: str
    accounts: int
    flagged: int
    recall: float
    caught: bool
    exchanges: int
    leakage: float  # share of its exchanges served before its account's first flag
    hours_to_first_flag: float | None  # from the campaign's first exchange
    median_hours_to_flag: float | None  # per flagged account, from its first exchange
    accounts_burned_per_1000: float  # flagged accounts per 1,000 exchanges it got served
    # share of its exchanges served before its account was flagged or listed for review
    review_leakage: float


@dataclass(frozen=True)
class Metrics:
    attack_accounts: int
    benign_accounts: int
    recall: float
    precision: float
    false_positive_rate: float
    false_positive_rate_by_population: dict[str, float]
    benign_accounts_by_population: dict[str, int]
    campaigns: list[CampaignMetrics]
    at_budget: OperatingPoint  # how the scores rank: recall within a false-positive budget
    review_tier: TierRates  # flagged or listed for review, at the threshold detect ran with
    # accounts the run scored that the labels do not name: left out of every rate above
    unlabelled_accounts: int = 0
    # labelled accounts the run never scored (no exchange in its input): not in the rates
    labelled_without_traffic: int = 0

    def to_json(self) -> str:
        """Strict JSON: a rate or threshold that is not a number (no threshold fits the
        budget) is null, not Infinity, which strict parsers refuse."""
        return json.dumps(undefined_as_null(asdict(self)), indent=2, allow_nan=False)


def undefined_as_null(value: Any) -> Any:
    """`value` with every NaN or infinite float made None, for strict JSON (null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: undefined_as_null(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [undefined_as_null(v) for v in value]
    return value


def evaluate(detect_dir: Path, labels: Path) -> Metrics:
    con = _joined(detect_dir, labels)
    attack, benign, tp, fp = fetch_one(
        con,
        """SELECT count(*) FILTER (label = 'attack'),
        count(*) FILTER (label = 'benign'), count(*) FILTER (label = 'attack' AND flagged),
        count(*) FILTER (label = 'benign' AND flagged) FROM scored""",
    )
    by_population = con.execute("""SELECT population, count(*), avg(flagged::INT)
        FROM scored WHERE label = 'benign' GROUP BY 1 ORDER BY 1""").fetchall()
    ranked, review = _tiers(con)
    unlabelled, unscored = _unmatched(con)
    return Metrics(
        attack_accounts=int(attack),
        benign_accounts=int(benign),
        recall=share(tp, attack),
        precision=share(tp, tp + fp),
        false_positive_rate=share(fp, benign),
        false_positive_rate_by_population={str(p): float(r) for p, _, r in by_population},
        benign_accounts_by_population={str(p): int(n) for p, n, _ in by_population},
        campaigns=_campaigns(con),
        at_budget=ranked,
        review_tier=review,
        unlabelled_accounts=int(unlabelled),
        labelled_without_traffic=int(unscored),
    )


def _joined(detect_dir: Path, labels: Path) -> duckdb.DuckDBPyConnection:
    """A connection whose `scored` table is detect's accounts joined to their labels, with
    `results`, `labels` and `signals` as views; a user's wrong folder or file is one line."""
    if not detect_dir.is_dir():
        raise UserError(f"no such folder: {detect_dir} (a detect output folder, its --out)")
    if simulated_parts(detect_dir):
        raise UserError(
            f"{detect_dir} is what simulate writes, not a detect output folder: ingest it, "
            "run 'distillguard detect LAKE --out DIR', then evaluate DIR"
        )
    if Lake(detect_dir).is_one():
        raise UserError(
            f"{detect_dir} is a lake (what ingest writes), not a detect output folder: run "
            f"'distillguard detect {detect_dir} --out DIR', then evaluate DIR"
        )
    for name in ("accounts.parquet", "signals"):
        if not (detect_dir / name).exists():
            raise UserError(f"{detect_dir} has no {name}: run 'distillguard detect' first")
    con = connect()
    create_labels_view(con, labels)
    con.execute(
        "CREATE VIEW results AS SELECT * FROM "
        f"read_parquet('{sql_path(detect_dir / 'accounts.parquet')}')"
    )
    con.execute(
        f"CREATE VIEW signals AS SELECT account_id, ts FROM {signals_sql(detect_dir / 'signals')}"
    )
    columns = {row[0] for row in con.execute("DESCRIBE results").fetchall()}
    if "review" not in columns:
        raise UserError(f"{detect_dir} was written by an older detect: run 'distillguard detect'")
    check_labels(con, labels)
    con.execute("""CREATE TEMP TABLE scored AS
        SELECT r.account_id, r.score, r.flagged, r.first_flagged_at, r.review,
               least(r.first_flagged_at, r.first_review_at) AS first_acted_at,
               l.label, l.campaign, l.population
        FROM results r JOIN labels l USING (account_id)""")
    return con


def _campaigns(con: duckdb.DuckDBPyConnection) -> list[CampaignMetrics]:
    names = con.execute(
        "SELECT DISTINCT campaign FROM scored WHERE label = 'attack' ORDER BY 1"
    ).fetchall()
    return [_campaign(con, str(c)) for (c,) in names]


def _unmatched(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Scored accounts the labels do not name, and labelled accounts detect never scored."""
    unlabelled, unscored = fetch_one(
        con,
        """SELECT
            (SELECT count(*) FROM results r
             WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.account_id = r.account_id)),
            (SELECT count(*) FROM labels l
             WHERE NOT EXISTS (SELECT 1 FROM results r WHERE r.account_id = l.account_id))""",
    )
    return int(unlabelled), int(unscored)


def _tiers(con: duckdb.DuckDBPyConnection) -> tuple[OperatingPoint, TierRates]:
    """The ranking check (a threshold chosen with the labels) and the review tier (flagged
    or listed for review: the threshold detect ran with, chosen without them)."""
    table = con.execute("""SELECT score, flagged OR review AS hit, label = 'attack' AS attack,
        campaign, population FROM scored""").fetchnumpy()
    attack = np.asarray(table["attack"], dtype=bool)
    groups = (
        np.asarray(table["campaign"], dtype=object),
        np.asarray(table["population"], dtype=object),
    )
    ranked = operating_point(np.asarray(table["score"], dtype=float), attack, *groups)
    return ranked, tier_rates(np.asarray(table["hit"], dtype=bool), attack, *groups)


def _campaign(con: object, campaign: str) -> CampaignMetrics:
    query = f"""
        WITH members AS (SELECT * FROM scored WHERE campaign = '{campaign.replace("'", "''")}'),
        traffic AS (
          SELECT m.account_id, m.flagged, m.first_flagged_at, m.first_acted_at, s.ts
          FROM members m JOIN signals s USING (account_id)),
        per_account AS (
          SELECT account_id, any_value(flagged) AS flagged, any_value(first_flagged_at) AS flag_at,
                 min(ts) AS first_ts FROM traffic GROUP BY account_id)
        SELECT
          (SELECT count(*) FROM members), (SELECT count(*) FILTER (flagged) FROM members),
          (SELECT count(*) FROM traffic),
          (SELECT count(*) FILTER (first_flagged_at IS NULL OR ts < first_flagged_at) FROM traffic),
          (SELECT epoch(min(flag_at)) - epoch(min(first_ts)) FROM per_account),
          (SELECT median(epoch(flag_at) - epoch(first_ts)) FILTER (flagged) FROM per_account),
          (SELECT count(*) FILTER (first_acted_at IS NULL OR ts < first_acted_at) FROM traffic)"""
    row = fetch_one(con, query)  # type: ignore[arg-type]
    accounts, flagged, exchanges, leaked, first, median, unreviewed = row
    recall = share(flagged, accounts)
    return CampaignMetrics(
        campaign,
        int(accounts),
        int(flagged),
        recall,
        recall > CAUGHT_SHARE,
        int(exchanges),
        share(leaked, exchanges),
        None if first is None else float(first) / 3600,
        None if median is None else float(median) / 3600,
        1000 * flagged / leaked if leaked else float(flagged > 0) * 1000.0,
        share(unreviewed, exchanges),
    )
