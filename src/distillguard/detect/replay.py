"""Replay the log tick by tick: account scores every hour, linking every few hours.

A tick sees only data up to its end. An account is flagged at the end of the first tick at
which its own score crosses the account threshold (with the combiner deciding, at its
combiner_flag_ticks-th linking tick over the line, or at its first with a peer's indicator
match strong enough to stand in for those ticks: detect/boost.py), or at which it belongs
to a flagged cluster with enough evidence of its own; that tick end is its
first_flagged_at.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import duckdb
import numpy as np

from distillguard.detect import schedule
from distillguard.detect.best import BestRows, first_peak_per_account
from distillguard.detect.boost import AccountBoost, apply_boost
from distillguard.detect.config import DetectConfig
from distillguard.detect.decide import CombinerTick, ReplayState
from distillguard.detect.rule_clusters import rule_clusters
from distillguard.engine.base import KEYS_TABLE, SignalSource
from distillguard.engine.duckdb_engine import sql_time, time_range
from distillguard.linking.codes import key_codes
from distillguard.linking.graph import block_density, communities, links
from distillguard.linking.window import KeyWindow
from distillguard.profiles.window import window_features, window_sql
from distillguard.scoring import account as account_scoring
from distillguard.scoring.cluster import cluster_frame, score_clusters
from distillguard.scoring.cohort import own_and_content, tick_features
from distillguard.scoring.combiner import Combiner, shipped
from distillguard.scoring.content import needed as content_needed
from distillguard.scoring.evidence import Scored

HOUR = np.timedelta64(1, "h")


# Called at every linking tick with the tick, the accounts, their features and their linked
# group's number at the tick (-1: none), for training and judging the combiner offline;
# detection itself never needs it.
Observer = Callable[[np.datetime64, np.ndarray, dict[str, np.ndarray], np.ndarray], None]


@dataclass(frozen=True)
class Learned:
    """The combiner that decides (None: the rules decide) and an optional observer."""

    combiner: Combiner | None = None
    observe: Observer | None = None


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


def _cluster_tick(
    con: duckdb.DuckDBPyConnection,
    keys: KeyWindow,
    replay: Replay,
    *,
    tick: np.datetime64,
    config: DetectConfig,
    learned: Learned,
) -> CombinerTick | None:
    """Link the accounts of the window ending at `tick`. With the rules deciding, decide
    the tick here; with the combiner, return the inputs of its decisions."""
    window = np.timedelta64(config.window_hours, "h")
    keys.advance(tick - window, tick)
    idx = _as_of(replay.rows, tick, window)
    if len(idx) < 2:
        return None
    arrays = {k: v[idx] for k, v in replay.rows.items()}
    own_content = _start_own_and_content(arrays, replay.scores.score[idx], keys, learned)
    weighted = keys.weighted(config.max_key_degree)
    edges = links(weighted, keys.codes, config.min_link)
    membership = communities(edges, config.seed, config.cluster_min_accounts)
    scores = arrays["member_score"]  # without the ranking-only rules
    density = block_density(weighted, keys.codes, membership)
    frame = cluster_frame(arrays["account_id"], arrays, scores, membership, edges, density=density)
    scored = score_clusters(frame)
    if own_content is not None:  # a combiner decides, or features are observed
        features = tick_features(
            arrays,
            own_content.result(),
            frame=frame,
            cluster_score=scored.score,
            edges=edges,
        )
        if learned.observe is not None:
            learned.observe(tick, arrays["account_id"], features, frame.of_row)
        if learned.combiner is not None:
            return CombinerTick(tick, arrays, features, frame, scored, learned.combiner)
    rule_clusters(
        replay.state, tick, arrays, edges=edges, frame=frame, scored=scored, config=config
    )
    return None


@functools.cache
def _side_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(1, thread_name_prefix="tick-content")


def _start_own_and_content(
    arrays: dict[str, np.ndarray], own_score: np.ndarray, keys: KeyWindow, learned: Learned
) -> Future[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]] | None:
    """The tick's own and content features, started on a second thread: they read the
    window but no link, and NumPy lets the two threads share the two CPUs (the linking
    runs meanwhile). The window is not changed until the next tick, after they are read."""
    if learned.combiner is None and learned.observe is None:
        return None
    reads = learned.observe is not None or _reads_content(learned)
    return _side_thread().submit(own_and_content, arrays, own_score, keys if reads else None)


def _reads_content(learned: Learned) -> bool:
    """Content cohorts cost a pass over the window's keys: only for a combiner that reads
    them (the shipped one does, see README "Robustness")."""
    return learned.combiner is not None and content_needed(learned.combiner.features)


def replay(
    con: duckdb.DuckDBPyConnection,
    source: SignalSource,
    accounts: str | None,
    config: DetectConfig,
    *,
    on_tick: Callable[[int, int], None] | None = None,
    boost: AccountBoost | None = None,
    combiner: Combiner | Literal["shipped"] | None = "shipped",
    observe: Observer | None = None,
) -> Replay:
    """Score and link the log run by run (see `schedule.runs`); what is held between runs is the
    flags, the flagged clusters and each account's peak row. With config.decide_by
    "combiner", the combiner (the shipped one unless given) decides flags and reviews at
    the linking ticks; `observe` sees every tick's features; `on_tick(done, total)` is
    called after each linking tick, for a progress bar; `boost` adds outside evidence."""
    if config.decide_by == "rules":
        combiner = None
    learned = Learned(shipped() if combiner == "shipped" else combiner, observe)
    new_model = source.engine.hourly(con, source.directory, config.window_hours)
    state, best = ReplayState(), BestRows()
    window = np.timedelta64(config.window_hours, "h")
    step = np.timedelta64(config.cluster_every_hours, "h")
    hours = schedule.data_hours(con)
    runs = schedule.runs(hours, config)
    total = sum(len(ticks) for ticks in runs)
    for ticks in runs:
        owned_from = ticks[0] - step  # the runs' own hours follow one another
        run = _score_run(con, accounts, config, owned_from, ticks[-1])
        if boost is not None:  # outside evidence (a peer's indicators), off by default
            into_score = learned.combiner is None  # else it joins the combiner's estimate
            boosted = apply_boost(
                boost, run.rows, run.scores, run.window_end, into_score=into_score
            )
            run = _Run(run.rows, boosted, run.window_end)
        owned = np.flatnonzero(run.rows["hour"] >= owned_from)
        if learned.combiner is None:
            _rule_flags(state, run, owned, config)
        best.update_one(run.rows, run.scores, owned)
        keys = _run_keys(con, source, (ticks[0] - window, ticks[-1]), hours, accounts)
        linked = Replay(run.rows, run.scores, state, new_model, run.window_end)
        for tick in ticks:
            decision = _cluster_tick(con, keys, linked, tick=tick, config=config, learned=learned)
            if decision is not None:
                decision.decide(state, config)
            state.ticks += 1
            if on_tick is not None:
                on_tick(state.ticks, total)
    peaks = best.arrays.get("hour", np.zeros(0, "datetime64[us]"))
    return Replay(best.arrays, best.scored, state, new_model, peaks + HOUR)


@dataclass(frozen=True)
class _Run:
    rows: dict[str, np.ndarray]
    scores: Scored
    window_end: np.ndarray


def _rule_flags(state: ReplayState, run: _Run, owned: np.ndarray, config: DetectConfig) -> None:
    """decide_by="rules": an account's own score at each hour against the thresholds."""
    for i in owned[run.scores.score[owned] >= config.review_threshold]:
        state.account_review.setdefault(str(run.rows["account_id"][i]), run.window_end[i])
    for i in owned[run.scores.score[owned] >= config.account_threshold]:
        state.account_flag.setdefault(str(run.rows["account_id"][i]), run.window_end[i])


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
    scope = f"(SELECT * FROM hourly WHERE {time_range('hour', start - 2 * window, end)})"
    rows = window_features(
        con, window_sql(scope, accounts, config.window_hours, sql_time(start - window))
    )
    rows["hour"] = rows["hour"].astype("datetime64[us]")
    if rows["created_at"].dtype.kind == "M":
        rows["created_at"] = rows["created_at"].astype("datetime64[us]")
    window_end = rows["hour"] + HOUR
    scored, arrays = account_scoring.score_accounts(rows, window_end)
    return _Run(arrays, scored, window_end)


def _run_keys(
    con: duckdb.DuckDBPyConnection,
    source: SignalSource,
    span: tuple[np.datetime64, np.datetime64],
    hours: np.ndarray,
    accounts: str | None,
) -> KeyWindow:
    """A key window whose codes cover the traffic keys of the signals in [start, end) (the
    span). The engine reads them only on the days of `hours` (the hours with traffic) in
    that span; they are extracted for the run alone and dropped once coded, so DuckDB does
    not hold them beside the signals while the ticks join pairs."""
    start, end = span
    inside = hours[(hours >= start) & (hours < end)]
    days = np.unique(inside.astype("datetime64[D]")).astype("datetime64[us]")
    source.engine.hour_keys(con, source.directory, span, days)
    try:
        return KeyWindow(key_codes(con, KEYS_TABLE, accounts))
    finally:
        con.execute(f"DROP TABLE {KEYS_TABLE}")
