"""What is usual for a kind of task: the population's output length per capability.

An extractor who spreads its traffic thinly over many accounts to stay under per-account
limits still wants each request to pay: long, reasoning-rich outputs. How long is long
depends on the task (an agentic coding turn runs longer than a chat reply) and on the
models and clients in use, so an exchange's harvest is measured against the population's
own usage for the same capability over the same window, not against a fixed token count.
(One reference serves all models: a new model that writes longer moves it for everyone.)

The reference for an hour is the mean log of (output + reasoning) tokens over every
exchange of that capability in the window ending with that hour: only data up to the
hour's end, and built from per-hour sums, so it stays as mergeable as the account profiles.
It is weighted by exchanges, so heavy automated users set it; a campaign large enough to
move it lowers its own excess, which only makes this evidence more conservative.
"""

from __future__ import annotations

LOG_HARVEST = "ln(1 + coalesce(output_tokens, 0) + coalesce(reasoning_tokens, 0))"


def window_frame(window_hours: int) -> str:
    """The SQL frame of a moving window of `window_hours` hours ending with the row's hour
    (ordered by an hour column); the account profiles use the same frame."""
    return f"RANGE BETWEEN INTERVAL {window_hours - 1} HOUR PRECEDING AND CURRENT ROW"


def per_hour_harvest_sql(signals: str) -> str:
    """SQL for (hour, capability, total, k): the summed log harvest and the exchange count of
    every hour and capability. Sums merge, and the text is plain SQL that DuckDB and Spark
    both run, so either engine computes this part over the whole log."""
    return f"""
        SELECT date_trunc('hour', ts) AS hour, capability,
               sum({LOG_HARVEST}) AS total, count(*) AS k
        FROM {signals} GROUP BY date_trunc('hour', ts), capability
    """


def reference_sql(per_hour: str, window_hours: int) -> str:
    """SQL for (hour, capability, log_harvest_ref) from a `per_hour_harvest_sql` table."""
    return f"""
        SELECT hour, capability, (sum(total) OVER w) / (sum(k) OVER w) AS log_harvest_ref
        FROM {per_hour}
        WINDOW w AS (PARTITION BY capability ORDER BY hour {window_frame(window_hours)})
    """


def harvest_reference_sql(signals: str, window_hours: int) -> str:
    """SQL for (hour, capability, log_harvest_ref): the window's mean log harvest per
    capability at every hour with traffic of that capability."""
    return reference_sql(f"({per_hour_harvest_sql(signals)})", window_hours)
