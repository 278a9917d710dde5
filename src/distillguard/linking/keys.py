"""Evidence keys: what accounts hold that an operator shares across its accounts.

Keys come in kinds. Strong kinds are sign-up facts (payment card, sign-up address, sign-up
burst); weak kinds come from traffic (prompt template starts and ends, near-duplicate
prompt sketches, a template sent in the same hour, system prompts, /24 networks, ASNs).

Traffic keys are extracted once per (account, hour) into the `hour_keys` table, as 64-bit
integers; `linking.codes` turns them into dense codes and `linking.window` keeps the
window's holdings as running counts, so a linking tick costs its new hours only.
"""

from __future__ import annotations

KINDS: tuple[str, ...] = (
    "card",
    "signup_ip",
    "signup_burst",
    "prompt_start",
    "prompt_end",
    "prompt_near",
    "coactive",
    "system",
    "network",
    "asn",
)
STRONG_KINDS = ("card", "signup_ip", "signup_burst")
KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}

# One (account, hour, kind, key) row per distinct key an account used in an hour. A
# `coactive` key is a template in one clock hour: accounts sending the same rare template
# in the same hour act together.
_TRAFFIC_KEYS = {
    "prompt_start": ("prefix_fp", "prefix_fp <> 0"),
    "prompt_end": ("suffix_fp", "suffix_fp <> 0"),
    "prompt_near": ("unnest([near_0, near_1, near_2, near_3])", "near_0 <> 0"),
    "coactive": ("(hash(skeleton_fp, date_trunc('hour', ts)) >> 1)::BIGINT", "skeleton_fp <> 0"),
    "system": ("system_fp", "system_fp <> 0"),
    "network": ("(hash(ip_prefix) >> 1)::BIGINT", "ip_prefix IS NOT NULL"),
    "asn": ("asn", "asn IS NOT NULL"),
}


def hour_keys_sql(signals: str) -> str:
    """SQL for the distinct traffic keys of every (account, hour) in `signals`."""
    parts = [
        f"SELECT account_id, date_trunc('hour', ts) AS hour, "
        f"{KIND_CODE[kind]}::UTINYINT AS kind, {value}::BIGINT AS key "
        f"FROM {signals} WHERE {where}"
        for kind, (value, where) in _TRAFFIC_KEYS.items()
    ]
    return "SELECT DISTINCT * FROM (" + " UNION ALL ".join(parts) + ")"


# A sign-up burst is more sign-ups from one /16 in 30 minutes than that network's own rate
# over the day before predicts: a busy carrier network sees several sign-ups every half
# hour, and in a large population chance collisions of any two would join strangers.
BURST_MIN = 3
BURST_SIGMAS = 4


def _burst_keys(accounts: str) -> str:
    """SQL for (account_id, key) of accounts signed up in a burst; causal: the rate comes
    from the day before each half-hour."""
    return f"""
        WITH s AS (
          SELECT account_id, regexp_extract(signup_ip, '^(\\d+\\.\\d+)', 1) AS net,
                 time_bucket(INTERVAL 30 MINUTE, created_at) AS bucket
          FROM {accounts} WHERE created_at IS NOT NULL AND signup_ip IS NOT NULL),
        counts AS (SELECT net, bucket, count(*) AS c FROM s GROUP BY ALL),
        rated AS (
          SELECT net, bucket, c, coalesce(sum(c) OVER (
                   PARTITION BY net ORDER BY bucket
                   RANGE BETWEEN INTERVAL 24 HOUR PRECEDING AND INTERVAL 30 MINUTE PRECEDING),
                 0) / 48.0 AS rate
          FROM counts)
        SELECT account_id, 'signup_burst:' || net || '@' || strftime(bucket, '%Y%m%d%H%M')
        FROM s JOIN rated USING (net, bucket)
        WHERE c >= {BURST_MIN} + rate + {BURST_SIGMAS} * sqrt(rate)"""


def strong_keys_sql(accounts: str, active: str) -> str:
    """SQL for the sign-up keys ("kind:value" text) of the accounts in `active`."""
    return f"""
        SELECT * FROM (
          SELECT account_id, 'card:' || payment_fingerprint AS key FROM {accounts}
            WHERE payment_fingerprint IS NOT NULL
          UNION ALL SELECT account_id, 'signup_ip:' || signup_ip FROM {accounts}
            WHERE signup_ip IS NOT NULL
          UNION ALL SELECT * FROM ({_burst_keys(accounts)}))
        WHERE account_id IN (SELECT account_id FROM {active})"""
