"""Prompt-template fingerprints as keyed hashes, so no prompt text leaves in a finding.

A template fingerprint is a hash of the prompt's masked skeleton; templates are guessable,
so a plain hash would let anyone confirm a guess. Findings carry HMAC-SHA256 of it under a
key the provider keeps (`--fingerprint-key FILE`): the same template gives the same value
in every run and finding under one key, and nothing without it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from distillguard.secret_file import read_secret

MIN_KEY_BYTES = 16
TOP_TEMPLATES = 3  # a group's most used templates, each used at least twice


def read_key(path: Path) -> bytes:
    """The key in `path` (surrounding whitespace dropped); at least 16 bytes."""
    return read_secret(path, "fingerprint key", MIN_KEY_BYTES)


def keyed(key: bytes, fingerprint: int) -> str:
    return hmac.new(key, str(fingerprint).encode(), hashlib.sha256).hexdigest()


def template_fingerprints(
    con: duckdb.DuckDBPyConnection, signals: str, groups: Mapping[str, Sequence[str]]
) -> dict[str, tuple[int, ...]]:
    """Each group's (an account, or a cluster's members) most used template fingerprints."""
    if not groups:
        return {}
    pairs = pa.table(
        {
            "group_id": [g for g, members in groups.items() for _ in members],
            "account_id": [a for members in groups.values() for a in members],
        }
    )
    con.register("fingerprint_groups", pairs)
    rows = con.execute(f"""
        SELECT group_id, skeleton_fp FROM (
          SELECT g.group_id, s.skeleton_fp, count(*) AS n,
                 row_number() OVER (PARTITION BY g.group_id
                                    ORDER BY count(*) DESC, s.skeleton_fp) AS rank
          FROM {signals} s JOIN fingerprint_groups g USING (account_id)
          WHERE s.skeleton_fp <> 0 GROUP BY g.group_id, s.skeleton_fp)
        WHERE n >= 2 AND rank <= {TOP_TEMPLATES} ORDER BY group_id, rank""").fetchall()
    con.unregister("fingerprint_groups")
    out: dict[str, list[int]] = {}
    for group, fingerprint in rows:
        out.setdefault(group, []).append(int(fingerprint))
    return {g: tuple(f) for g, f in out.items()}
