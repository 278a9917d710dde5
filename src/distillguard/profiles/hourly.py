"""Hourly partial aggregates per account: the mergeable state detection carries.

Every column is a count or a sum, so the state of any window is the sum of its hours, and
two partitions of the data combine by adding rows with the same (account, hour). A tick
therefore costs the new hour's exchanges, not the history.
"""

from __future__ import annotations

import duckdb

from distillguard.profiles.population import LOG_HARVEST, harvest_reference_sql
from distillguard.signals.capabilities import CAPABILITIES

VALUABLE = ("coding", "agentic", "reasoning", "data_analysis", "computer_use", "vision")
ELICITED = 0.5  # a prompt counts as eliciting when a classifier gives it at least this
RICH_OUTPUT_TOKENS = 1000

SUM_COLUMNS: tuple[str, ...] = (
    "n",
    "n_ok",
    "n_cot",
    "n_trace",
    "n_grading",
    "n_rewrite",
    "n_elicit",
    "n_rich",
    "n_thinking",
    "output_tokens",
    "reasoning_tokens",
    "n_single_turn",
    "distinct_elicit",
    "distinct_trace",
    "distinct_rewrite",
    "n_tool_loop",
    "ip_prefixes",
    "gap_n",
    "gap_sum",
    "gap_sq",
    "n_new_model",
    "harvest_excess",
    *(f"cap_{c}" for c in CAPABILITIES),
)


def hourly_sql(
    signals: str, new_model: str | None, window_hours: int, reference: str | None = None
) -> str:
    """SQL for one row per (account_id, hour) with the SUM_COLUMNS. `signals` is a table
    expression over the signals table; `new_model` is the model released in the window;
    harvests are measured against the population's window ending at each hour, from
    `reference` when given (a SELECT of hour, capability, log_harvest_ref: an engine that
    sees the signals in shards computes the population's reference once, over them all)
    or else from `signals` itself."""
    elicit = (
        f"greatest(p_cot_elicitation, p_trace_extraction, p_rubric_grading, "
        f"p_text_grading, p_censorship_rewrite) >= {ELICITED}"
    )
    # A judge prompt quotes the answers it grades, sensitive ones included: what grades is
    # grading, not a request for a sanitised rewrite.
    rewrite = (
        f"p_censorship_rewrite >= {ELICITED} AND "
        f"greatest(p_rubric_grading, p_text_grading) < {ELICITED}"
    )
    caps = ",\n".join(
        f"count(*) FILTER (capability = {i}) AS cap_{c}" for i, c in enumerate(CAPABILITIES)
    )
    new = f"model = '{new_model}'" if new_model else "false"
    return f"""
        WITH ref AS ({reference or harvest_reference_sql(signals, window_hours)}),
        s AS (
          SELECT *, date_trunc('hour', ts) AS hour,
                 epoch(ts) - lag(epoch(ts)) OVER (PARTITION BY account_id ORDER BY ts) AS gap
          FROM {signals}
        )
        SELECT account_id, hour,
          count(*) AS n,
          count(*) FILTER (ok) AS n_ok,
          count(*) FILTER (p_cot_elicitation >= {ELICITED}) AS n_cot,
          count(*) FILTER (p_trace_extraction >= {ELICITED}) AS n_trace,
          count(*) FILTER (greatest(p_rubric_grading, p_text_grading) >= {ELICITED}) AS n_grading,
          count(*) FILTER ({rewrite}) AS n_rewrite,
          count(*) FILTER ({elicit}) AS n_elicit,
          count(*) FILTER (thinking_budget > 0 OR reasoning_tokens > 0
                           OR output_tokens >= {RICH_OUTPUT_TOKENS}) AS n_rich,
          count(*) FILTER (thinking_budget > 0) AS n_thinking,
          sum(output_tokens) AS output_tokens,
          sum(reasoning_tokens) AS reasoning_tokens,
          count(*) FILTER (user_turns <= 1 AND n_tool_blocks = 0) AS n_single_turn,
          count(*) FILTER (n_tool_blocks > 0) AS n_tool_loop,
          count(DISTINCT ip_prefix) AS ip_prefixes,
          count(gap) FILTER (gap < 21600) AS gap_n,
          coalesce(sum(gap) FILTER (gap < 21600), 0) AS gap_sum,
          coalesce(sum(gap * gap) FILTER (gap < 21600), 0) AS gap_sq,
          count(*) FILTER ({new}) AS n_new_model,
          coalesce(sum({LOG_HARVEST} - ref.log_harvest_ref), 0) AS harvest_excess,
          count(DISTINCT skeleton_fp) FILTER ({elicit}) AS distinct_elicit,
          count(DISTINCT skeleton_fp) FILTER (p_trace_extraction >= {ELICITED}) AS distinct_trace,
          count(DISTINCT skeleton_fp) FILTER ({rewrite}) AS distinct_rewrite,
          {caps}
        FROM s LEFT JOIN ref USING (hour, capability) GROUP BY account_id, hour
    """


def release(con: duckdb.DuckDBPyConnection, signals: str) -> tuple[str | None, object]:
    """The newest model to appear in the data after its first day, and when it appeared:
    a release inside the window, inferred from traffic rather than configured."""
    row = con.execute(f"""
        WITH first_seen AS (SELECT model, min(ts) AS first_at FROM {signals} GROUP BY model),
             opening AS (SELECT min(ts) + INTERVAL 1 DAY AS t FROM {signals})
        SELECT model, first_at::VARCHAR FROM first_seen, opening
        WHERE first_at > opening.t ORDER BY first_at DESC LIMIT 1
    """).fetchall()  # fetched to the end, so the connection is free for the next query
    return (str(row[0][0]), row[0][1]) if row else (None, None)
