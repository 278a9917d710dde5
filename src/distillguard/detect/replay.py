"""Replay the log tick by tick: account scores every hour, linking every few hours.

A tick sees only data up to its end. An account is flagged at the end of the first tick at
which its own score crosses the account threshold, or at which it belongs to a flagged
cluster with enough evidence of its own; that tick end is its first_flagged_at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import numpy as np

from distillguard.detect.best import BestRows, first_peak_per_account
from distillguard.detect.boost import AccountBoost, apply_boost
from distillguard.detect.config import DetectConfig
from distillguard.engine.base import KEYS_TABLE, SignalSource
from distillguard.linking.codes import key_codes
from distillguard.linking.graph import Links, block_density, communities, links
from distillguard.linking.keys import STRONG_KINDS
from distillguard.linking.window import KeyWindow
from distillguard.profiles.window import window_features, window_sql
from distillguard.scoring import account as account_scoring
from distillguard.scoring.cluster import RULES as CLUSTER_RULES
from distillguard.scoring.cluster import cluster_frame, declared_members, score_clusters
from distillguard.scoring.evidence import Evidence, Scored

HOUR = np.timedelta64(1, "h")


@dataclass
class ClusterRecord:
    """A flagged cluster at one tick."""

    tick: np.datetime64
    members: list[str]
    score: float
    evidence: list[Evidence]


@dataclass
class ReplayState:
    account_flag: dict[str, np.datetime64] = field(default_factory=dict)
    account_review: dict[str, np.datetime64] = field(default_factory=dict)
    cluster_flag: dict[str, np.datetime64] = field(default_factory=dict)
    cluster_score: dict[str, float] = field(default_factory=dict)
    flagged_clusters: list[ClusterRecord] = field(default_factory=list)
    ticks: int = 0


@dataclass(frozen=True)
class Replay:
    # Window rows, one per (account, active hour) of a run; in the replay's result, each
    # account's peak row only (see detect.best).
    rows: dict[str, np.ndarray]
    scores: Scored
    state: ReplayState
    new_model: str | None
    window_end: np.ndarray

    def best_row(self) -> dict[str, int]:
        """Per account, the window row where its own score peaked (the earliest on a tie)."""
        if "account_id" not in self.rows:  # no traffic at all
            return {}
        accounts = self.rows["account_id"]
        peaks = first_peak_per_account(accounts, self.scores.score)
        return {str(accounts[i]): int(i) for i in peaks}


def _as_of(rows: dict[str, np.ndarray], tick: np.datetime64, window: np.timedelta64) -> np.ndarray:
    """Row index per account: its last active hour inside the window ending at `tick`."""
    inside = np.flatnonzero((rows["hour"] < tick) & (rows["hour"] >= tick - window))
    if len(inside) == 0:
        return inside
    accounts = rows["account_id"][inside]
    last = np.r_[accounts[1:] != accounts[:-1], True]
    return inside[last]


@dataclass(frozen=True)
class SharedInfrastructure:
    """Who in the window shares sign-up infrastructure with another account. Members of a
    declared organisation sharing its card are a company, not a fleet."""

    card: set[str]
    any_key: set[str]

    @classmethod
    def of(cls, edges: Links, arrays: dict[str, np.ndarray]) -> SharedInfrastructure:
        declared = declared_members(arrays["account_id"], arrays["org_id"])
        card = edges.sharing("card", 2, declared)
        others = {
            a
            for kind in STRONG_KINDS
            if kind != "card"
            for a in edges.sharing(kind, 2, frozenset())
        }
        return cls(card, card | others)


def _cluster_tick(
    con: duckdb.DuckDBPyConnection,
    keys: KeyWindow,
    replay: Replay,
    *,
    tick: np.datetime64,
    config: DetectConfig,
) -> None:
    window = np.timedelta64(config.window_hours, "h")
    keys.advance(tick - window, tick)
    idx = _as_of(replay.rows, tick, window)
    if len(idx) < 2:
        return
    weighted = keys.weighted(config.max_key_degree)
    edges = links(con, weighted, keys.codes, config.min_link)
    membership = communities(edges, config.seed, config.cluster_min_accounts)
    arrays = {k: v[idx] for k, v in replay.rows.items()}
    scores = arrays["member_score"]  # without the ranking-only rules
    density = block_density(weighted, keys.codes, membership)
    frame = cluster_frame(arrays["account_id"], arrays, scores, membership, edges, density=density)
    scored = score_clusters(frame)
    own = dict(zip(arrays["account_id"].tolist(), scores.tolist(), strict=True))
    shared = SharedInfrastructure.of(edges, arrays)
    state = replay.state
    for j in np.flatnonzero(
        (scored.score >= config.cluster_threshold)
        & (frame.arrays["size"] >= config.cluster_min_accounts)
    ):
        # A member is flagged on a shared card alone (the fleet's replacement accounts are
        # caught on their first tick), on shared sign-up infrastructure plus some evidence of
        # its own (VPN exits and carrier NAT put strangers on one address), or on enough
        # evidence of its own.
        members = [
            a
            for a in frame.members[j].tolist()
            if a in shared.card
            or (a in shared.any_key and own.get(a, 0.0) >= config.member_floor)
            or own.get(a, 0.0) >= 2 * config.member_floor
        ]
        if len(members) < config.cluster_min_accounts:
            continue
        state.flagged_clusters.append(
            ClusterRecord(
                tick,
                members,
                float(scored.score[j]),
                scored.evidence(CLUSTER_RULES, frame.arrays, int(j)),
            )
        )
        for a in members:
            state.cluster_score[a] = max(state.cluster_score.get(a, 0.0), float(scored.score[j]))
            state.cluster_flag.setdefault(a, tick)


def replay(
    con: duckdb.DuckDBPyConnection,
    source: SignalSource,
    accounts: str | None,
    config: DetectConfig,
    *,
    on_tick: Callable[[int, int], None] | None = None,
    boost: AccountBoost | None = None,
) -> Replay:
    """Score and link the log run by run (see `_runs`); what is held between runs is the
    flags, the flagged clusters and each account's peak row. `on_tick(done, total)` is
    called after each linking tick, for a progress bar."""
    new_model = source.engine.hourly(con, source.directory, config.window_hours)
    state, best = ReplayState(), BestRows()
    window = np.timedelta64(config.window_hours, "h")
    step = np.timedelta64(config.cluster_every_hours, "h")
    runs = _runs(_hour_range(con), config)
    total = sum(len(ticks) for ticks in runs)
    for ticks in runs:
        owned_from = ticks[0] - step  # the runs' own hours follow one another
        run = _score_run(con, accounts, config, owned_from, ticks[-1])
        if boost is not None:  # outside evidence (a peer's indicators), off by default
            run = _Run(
                run.rows, apply_boost(boost, run.rows, run.scores, run.window_end), run.window_end
            )
        owned = np.flatnonzero(run.rows["hour"] >= owned_from)
        for i in owned[run.scores.score[owned] >= config.review_threshold]:
            state.account_review.setdefault(str(run.rows["account_id"][i]), run.window_end[i])
        for i in owned[run.scores.score[owned] >= config.account_threshold]:
            state.account_flag.setdefault(str(run.rows["account_id"][i]), run.window_end[i])
        best.update_one(run.rows, run.scores, owned)
        keys = _run_keys(con, source, ticks[0] - window, ticks[-1], accounts)
        linked = Replay(run.rows, run.scores, state, new_model, run.window_end)
        for tick in ticks:
            _cluster_tick(con, keys, linked, tick=tick, config=config)
            state.ticks += 1
            if on_tick is not None:
                on_tick(state.ticks, total)
    hours = best.arrays.get("hour", np.zeros(0, "datetime64[us]"))
    return Replay(best.arrays, best.scored, state, new_model, hours + HOUR)


@dataclass(frozen=True)
class _Run:
    rows: dict[str, np.ndarray]
    scores: Scored
    window_end: np.ndarray


def _score_run(
    con: duckdb.DuckDBPyConnection,
    accounts: str | None,
    config: DetectConfig,
    start: np.datetime64,
    end: np.datetime64,
) -> _Run:
    """Scored window rows of the hours in [start - window, end): the run's own hours and the
    window before them, which its linking ticks look back over. Their frames reach back a
    second window, so the hourly partials are read from start - 2 windows."""
    window = np.timedelta64(config.window_hours, "h")
    scope = f"(SELECT * FROM hourly WHERE {_time_range('hour', start - 2 * window, end)})"
    rows = window_features(
        con, window_sql(scope, accounts, config.window_hours, _sql_time(start - window))
    )
    rows["hour"] = rows["hour"].astype("datetime64[us]")
    if rows["created_at"].dtype.kind == "M":
        rows["created_at"] = rows["created_at"].astype("datetime64[us]")
    window_end = rows["hour"] + HOUR
    scored, arrays = account_scoring.score_accounts(rows, window_end)
    return _Run(arrays, scored, window_end)


def _hour_range(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """The first and last hour with traffic (empty when there is none)."""
    ((first, last),) = con.sql(
        "SELECT epoch_us(min(hour)), epoch_us(max(hour)) FROM hourly"
    ).fetchall()
    if first is None:
        return np.zeros(0, "datetime64[us]")
    return np.array([first, last], dtype="datetime64[us]")


def _sql_time(t: np.datetime64) -> str:
    return f"to_timestamp({int(t.astype('datetime64[s]').astype(np.int64))})"


def _time_range(column: str, start: np.datetime64, end: np.datetime64) -> str:
    return f"{column} >= {_sql_time(start)} AND {column} < {_sql_time(end)}"


def _runs(hours: np.ndarray, config: DetectConfig) -> list[np.ndarray]:
    """The linking ticks, in runs `config.run_windows` windows long.

    Each run's window rows and key codes cover that run and the window before it, so the
    replay holds at most run_windows + 2 windows of them however long the log is (a last run
    shorter than a window joins the run before it). The window before a run is scored and
    coded twice, which costs a long log about 1 / run_windows more and a log no longer than
    a run nothing.
    """
    if len(hours) == 0:
        return []
    step = np.timedelta64(config.cluster_every_hours, "h")
    ticks = np.arange(hours.min() + step, hours.max() + 2 * step, step)
    per_window = -(-config.window_hours // config.cluster_every_hours)
    starts = list(range(0, len(ticks), config.run_windows * per_window))
    if len(starts) > 1 and len(ticks) - starts[-1] < per_window:
        starts.pop()  # a last run shorter than a window joins the one before it
    return [ticks[a:b] for a, b in zip(starts, [*starts[1:], len(ticks)], strict=True)]


def _run_keys(
    con: duckdb.DuckDBPyConnection,
    source: SignalSource,
    start: np.datetime64,
    end: np.datetime64,
    accounts: str | None,
) -> KeyWindow:
    """A key window whose codes cover the traffic keys of the signals in [start, end).

    The keys are extracted for the run alone (by the engine) and dropped once coded, so
    DuckDB does not hold them beside the signals while the ticks join pairs."""
    source.engine.hour_keys(con, source.directory, start, end)
    try:
        return KeyWindow(key_codes(con, KEYS_TABLE, accounts))
    finally:
        con.execute(f"DROP TABLE {KEYS_TABLE}")
