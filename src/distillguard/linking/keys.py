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


def _burst_key(accounts: str) -> str:
    return (
        f"'signup_burst:' || regexp_extract(signup_ip, '^(\\d+\\.\\d+)', 1) || '@' || "
        f"strftime(time_bucket(INTERVAL 30 MINUTE, created_at), '%Y%m%d%H%M') FROM {accounts} "
        f"WHERE created_at IS NOT NULL AND signup_ip IS NOT NULL"
    )


def strong_keys_sql(accounts: str, active: str) -> str:
    """SQL for the sign-up keys ("kind:value" text) of the accounts in `active`."""
    return f"""
        SELECT * FROM (
          SELECT account_id, 'card:' || payment_fingerprint AS key FROM {accounts}
            WHERE payment_fingerprint IS NOT NULL
          UNION ALL SELECT account_id, 'signup_ip:' || signup_ip FROM {accounts}
            WHERE signup_ip IS NOT NULL
          UNION ALL SELECT account_id, {_burst_key(accounts)})
        WHERE account_id IN (SELECT account_id FROM {active})"""
