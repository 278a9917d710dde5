"""Account profiles over a moving window, evaluated at every hour an account was active.

The rolling sums over hourly partials give, at each (account, hour), the account's state
for the window ending with that hour; an account's score can only rise at an hour it sends
traffic, so scoring these rows is the same as scoring every hourly tick.
"""

from __future__ import annotations

import duckdb
import numpy as np

from distillguard.profiles.hourly import SUM_COLUMNS
from distillguard.profiles.population import window_frame

Features = dict[str, np.ndarray]


def window_sql(
    hourly: str, accounts: str | None, window_hours: int, keep_from: str | None = None
) -> str:
    """SQL for the window rows of `hourly` (a table expression over hourly partials); with
    `keep_from` (an SQL time), only the rows of hours from then on, whose frames the caller
    has made sure `hourly` covers."""
    frame = window_frame(window_hours)
    sums = ",\n".join(f"(sum({c}) OVER w)::DOUBLE AS {c}" for c in SUM_COLUMNS)
    by_hour = ",\n".join(
        f"(sum(CASE WHEN hour(h.hour) = {k} THEN h.n ELSE 0 END) OVER w)::DOUBLE AS hod_{k}"
        for k in range(24)
    )
    static = (
        "a.created_at, a.tier, a.payment_fingerprint, a.signup_ip, a.org_id"
        if accounts
        else "NULL::TIMESTAMPTZ AS created_at, NULL AS tier, NULL AS payment_fingerprint, "
        "NULL AS signup_ip, NULL AS org_id"
    )
    join = f"LEFT JOIN {accounts} a USING (account_id)" if accounts else ""
    return f"""
        SELECT h.account_id, h.hour, {static},
          {sums},
          {by_hour},
          count(*) OVER w AS active_hours,
          count(DISTINCT date_trunc('day', h.hour)) OVER w AS active_days
        FROM {hourly} h {join}
        WINDOW w AS (PARTITION BY h.account_id ORDER BY h.hour {frame})
        {f"QUALIFY h.hour >= {keep_from}" if keep_from else ""}
        ORDER BY h.account_id, h.hour
    """


def window_features(con: duckdb.DuckDBPyConnection, sql: str) -> Features:
    """The window rows as numpy columns (strings stay object arrays)."""
    table = con.sql(sql).to_arrow_table()
    out: Features = {}
    for name in table.column_names:
        column = table[name]
        out[name] = column.to_numpy(zero_copy_only=False)
    return out
