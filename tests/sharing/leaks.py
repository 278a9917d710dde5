"""What must never leave a provider: every secret of a lake, and a scan of text for them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from distillguard.ingest.lake import sql_path

SHINGLE = 5  # a run of this many prompt words in a bundle counts as leaked text
_WORD = re.compile(r"[a-z0-9']+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


@dataclass(frozen=True)
class Secrets:
    """Identifiers and addresses (matched as substrings) and prompt text (as shingles)."""

    tokens: frozenset[str]
    shingles: frozenset[tuple[str, ...]]

    def hits(self, text: str) -> list[str]:
        found = [t for t in self.tokens if t in text]
        found += [" ".join(s) for s in _shingles(text) & self.shingles]
        return sorted(found)


def _column(con: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    return {str(v) for (v,) in con.sql(sql).fetchall() if v}


def lake_secrets(lake: Path) -> Secrets:
    con = duckdb.connect()
    ex = f"read_parquet('{sql_path(lake / 'exchanges')}/*/*.parquet')"
    acc = f"read_parquet('{sql_path(lake / 'accounts' / 'accounts.parquet')}')"
    tokens = _column(con, f"SELECT DISTINCT account_id FROM {ex}")
    tokens |= _column(con, f"SELECT DISTINCT api_key_id FROM {ex}")
    tokens |= _column(con, f"SELECT DISTINCT ip FROM {ex}")
    tokens |= _column(con, f"SELECT DISTINCT user_agent FROM {ex}")
    for column in ("email_domain", "signup_ip", "payment_fingerprint", "account_id"):
        tokens |= _column(con, f"SELECT DISTINCT {column} FROM {acc}")
    prefixes = {re.sub(r"\.\d+$", ".", t) for t in tokens if re.fullmatch(r"[\d.]+", t)}
    texts = _column(con, f"SELECT DISTINCT system FROM {ex}")
    texts |= _column(con, f"SELECT DISTINCT output_text FROM {ex}")  # the model's answers
    texts |= _column(
        con,
        f"SELECT DISTINCT c.text FROM (SELECT unnest(messages) AS m FROM {ex}), "
        "unnest(m.content) AS t(c) WHERE c.text IS NOT NULL",
    )
    con.close()
    shingles: set[tuple[str, ...]] = set()
    for text in texts:
        shingles |= _shingles(text)
    return Secrets(frozenset(tokens | prefixes), frozenset(shingles))
