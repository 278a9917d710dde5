"""What an operator reuses across accounts and providers, as fingerprints of exchanges.

Each kind is one column (or expression) of the signals table, or of the accounts table for
sign-up facts: the template skeleton's hash (slots masked, so records that differ in their
fillings share it), its first and last words, the near-duplicate sketch's LSH bands (so a
template that differs in a few words still matches), the system prompt, the client's user
agent, the exit network (/24 or /48) and, per account, the payment fingerprint and the
sign-up network. Raw values never leave this module's callers: sharing keys them first.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from distillguard.sharing.keys import CommunityKey
from distillguard.signals.sketch import BANDS


@dataclass(frozen=True)
class FingerprintKind:
    name: str
    title: str
    expression: str  # SQL over the signals (alias s) or accounts (alias a) table
    where: str
    per_account: bool = False  # a sign-up fact: held by the account, not by an exchange
    network: bool = False  # infrastructure the operator runs its traffic through


_BANDS = ", ".join(f"'{b}:' || near_{b}" for b in range(BANDS))
KINDS: tuple[FingerprintKind, ...] = (
    FingerprintKind(
        "template_skeleton", "prompt template", "s.skeleton_fp::VARCHAR", "s.skeleton_fp <> 0"
    ),
    FingerprintKind(
        "template_prefix", "prompt template start", "s.prefix_fp::VARCHAR", "s.prefix_fp <> 0"
    ),
    FingerprintKind(
        "template_suffix", "prompt template end", "s.suffix_fp::VARCHAR", "s.suffix_fp <> 0"
    ),
    FingerprintKind(
        "template_band",
        "near-duplicate template sketch band",
        f"unnest([{_BANDS}])",
        "s.near_0 <> 0",
    ),
    FingerprintKind("system_prompt", "system prompt", "s.system_fp::VARCHAR", "s.system_fp <> 0"),
    FingerprintKind("client", "client fingerprint", "s.user_agent", "s.user_agent <> ''"),
    FingerprintKind(
        "exit_network", "exit network", "s.ip_prefix", "s.ip_prefix IS NOT NULL", network=True
    ),
    FingerprintKind(
        "payment",
        "payment fingerprint",
        "a.payment_fingerprint",
        "a.payment_fingerprint <> ''",
        per_account=True,
    ),
    FingerprintKind(
        "signup_network",
        "sign-up network",
        "regexp_extract(a.signup_ip, '^(\\d+\\.\\d+\\.\\d+)\\.', 1) || '.0/24'",
        "regexp_matches(a.signup_ip, '^\\d+\\.\\d+\\.\\d+\\.')",
        per_account=True,
        network=True,
    ),
)
KIND_BY_NAME = {k.name: k for k in KINDS}


def holdings_sql(signals: str, accounts: str | None) -> str:
    """SQL for (account_id, ts, kind, raw): every fingerprint of every exchange. A sign-up
    fact is held by each of its account's exchanges, so it counts the traffic it let in."""
    parts = []
    for kind in KINDS:
        if kind.per_account and accounts is None:
            continue
        source = f"{signals} s" + (
            f" JOIN {accounts} a ON a.account_id = s.account_id" if kind.per_account else ""
        )
        parts.append(
            f"SELECT s.account_id, s.ts, '{kind.name}' AS kind, {kind.expression} AS raw "
            f"FROM {source} WHERE {kind.where}"
        )
    return " UNION ALL ".join(parts)


def keyed_table(
    con: duckdb.DuckDBPyConnection, holdings: str, key: CommunityKey, name: str
) -> None:
    """Create table `name` (kind, raw, keyed): each distinct raw value of `holdings` once,
    with its HMAC under the community key. Distinct values are few beside exchanges."""
    distinct = con.sql(f"SELECT DISTINCT kind, raw FROM {holdings}").to_arrow_table()
    kinds = distinct.column("kind").to_pylist()
    raws = distinct.column("raw").to_pylist()
    keyed = [key.keyed(k, r) for k, r in zip(kinds, raws, strict=True)]
    table = pa.table(
        {"kind": kinds, "raw": raws, "keyed": keyed},
        schema=pa.schema([("kind", pa.string()), ("raw", pa.string()), ("keyed", pa.string())]),
    )
    con.register("_keyed_values", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _keyed_values")
    con.unregister("_keyed_values")
