"""When each account sends: daily counts, sessions of turns, and timestamps.

Hour-of-day profiles are in the account's local time. `sync` spreads a campaign's requests
on an even grid across its accounts (load-balanced, phase-locked); `burst` packs an eval
sweep into a couple of hours; `flat` is round the clock, like pipelines and scrapers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from distillguard.simulate.accounts import DAY_MS, HOUR_MS, AccountBlock

_HUMAN = np.array(
    [
        1,
        0.6,
        0.4,
        0.3,
        0.3,
        0.4,
        0.8,
        1.5,
        2.5,
        3.5,
        4,
        4,
        3.8,
        4,
        4,
        3.8,
        3.6,
        3.5,
        3.6,
        3.8,
        3.6,
        3,
        2.2,
        1.5,
    ]
)
_BUSINESS = np.array(
    [
        0.1,
        0.05,
        0.05,
        0.05,
        0.05,
        0.1,
        0.3,
        1,
        3,
        4,
        4,
        4,
        3,
        4,
        4,
        4,
        3.5,
        3,
        1.5,
        0.8,
        0.5,
        0.4,
        0.3,
        0.2,
    ]
)
_EVENING = np.array(
    [
        1.5,
        0.8,
        0.3,
        0.1,
        0.1,
        0.1,
        0.2,
        0.5,
        0.8,
        1,
        1,
        1,
        1.2,
        1.2,
        1.5,
        2,
        3,
        3.5,
        3.8,
        4,
        4,
        3.8,
        3,
        2.2,
    ]
)
PROFILES = {"human": _HUMAN, "business": _BUSINESS, "evening": _EVENING, "flat": np.ones(24)}


@dataclass(frozen=True)
class DaySchedule:
    """Exchanges of one population on one day, sorted by account then time."""

    account: np.ndarray  # index into the AccountBlock
    ts_ms: np.ndarray
    session: np.ndarray  # session number, unique within the day
    turn: np.ndarray  # 1 for the first exchange of a session


def _daily_counts(
    block: AccountBlock, day_start: int, rng: np.random.Generator, release_day: bool
) -> np.ndarray:
    b = block.plan.behaviour
    overlap = (
        np.minimum(block.use_end_ms, day_start + DAY_MS) - np.maximum(block.use_start_ms, day_start)
    ).clip(0) / DAY_MS
    weekend = (day_start // DAY_MS + 3) % 7 >= 5  # 1970-01-01 was a Thursday
    active = rng.random(len(block)) < b.active_prob * (b.weekend_factor if weekend else 1.0)
    if b.hours == "burst":
        chance = b.release_burst_prob if release_day else b.burst_prob
        bursting = rng.random(len(block)) < chance
        expected = bursting * b.burst_size * rng.lognormal(-0.18, 0.6, len(block))
        return np.asarray(rng.poisson(expected * (overlap > 0)), dtype=np.int64)
    return np.asarray(rng.poisson(block.rate * overlap * active), dtype=np.int64)


def _sessions(
    account: np.ndarray, mean_turns: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    n = len(account)
    starts = rng.random(n) < 1.0 / max(mean_turns, 1.0)
    if n:
        starts[0] = True
        starts[1:] |= account[1:] != account[:-1]
    session = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    turn = np.arange(n) - first[session] + 1
    return session, turn


def _session_starts(
    block: AccountBlock, accounts: np.ndarray, day_start: int, rng: np.random.Generator
) -> np.ndarray:
    b = block.plan.behaviour
    if b.hours == "burst":
        hour = rng.integers(7, 20, len(accounts)) - block.tz_hours[accounts]
        # every session of an account-day falls in the same two-hour burst window
        burst_hour = (block.phase[accounts] * 13).astype(int) + 7 - block.tz_hours[accounts]
        hour = np.where(rng.random(len(accounts)) < 0.9, burst_hour, hour)
        offset = rng.integers(0, 2 * HOUR_MS, len(accounts))
        return np.asarray(day_start + (hour % 24) * HOUR_MS + offset, dtype=np.int64)
    profile = PROFILES[b.hours]
    local = rng.choice(24, size=len(accounts), p=profile / profile.sum())
    utc_hour = (local - block.tz_hours[accounts]) % 24
    offset = rng.integers(0, HOUR_MS, len(accounts))
    return np.asarray(day_start + utc_hour * HOUR_MS + offset, dtype=np.int64)


def _sync_times(
    block: AccountBlock, account: np.ndarray, day_start: int, rng: np.random.Generator
) -> np.ndarray:
    """An even grid per account, phase-locked across the campaign, with a second of jitter."""
    counts = np.bincount(account, minlength=len(block))
    k = np.arange(len(account)) - np.repeat(np.cumsum(counts) - counts, counts)[: len(account)]
    interval = DAY_MS / np.maximum(counts[account], 1)
    times = day_start + (k + block.phase[account]) * interval
    return np.asarray(times + rng.integers(-1000, 1000, len(account)), dtype=np.int64)


def day_schedule(
    block: AccountBlock, day: int, start_ms: int, release_day: int, rng: np.random.Generator
) -> DaySchedule:
    b = block.plan.behaviour
    day_start = start_ms + day * DAY_MS
    counts = _daily_counts(block, day_start, rng, day == release_day)
    account = np.repeat(np.arange(len(block)), counts)
    if b.hours == "sync":
        ts = _sync_times(block, account, day_start, rng)
        session, turn = np.arange(len(account)), np.ones(len(account), dtype=np.int64)
    else:
        session, turn = _sessions(account, b.session_turns, rng)
        first = np.flatnonzero(turn == 1)
        starts = _session_starts(block, account[first], day_start, rng)
        gaps = rng.exponential(60_000 if b.session_turns > 4 else 150_000, len(account))
        gaps[first] = 0
        elapsed = np.cumsum(gaps)
        elapsed -= elapsed[first][session]
        ts = (starts[session] + elapsed).astype(np.int64)
    inside = (ts >= block.use_start_ms[account]) & (ts < block.use_end_ms[account])
    account, ts, session = account[inside], ts[inside], session[inside]
    order = np.lexsort((ts, session, account))  # sessions contiguous, turns in order
    account, ts, session = account[order], ts[order], session[order]
    new = np.ones(len(session), dtype=bool)
    new[1:] = session[1:] != session[:-1]
    first = np.flatnonzero(new)
    turn = np.arange(len(session)) - first[np.cumsum(new) - 1] + 1
    return DaySchedule(account, ts, session, turn)
