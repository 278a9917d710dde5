"""What a case page shows beyond the queue row: activity, linked accounts, sample exchanges.

Everything is read from the detect run's signals and the lake it came from; nothing here is
cached, so a case page always shows the run the console was started on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distillguard.signals.capabilities import CAPABILITIES
from distillguard.store.duck import connect_utc

# Keys that link accounts, as the linking stage uses them; shown as kinds, never as values.
_LINK_KEYS = {
    "payment card": "a.payment_fingerprint",
    "sign-up network /24": "regexp_replace(a.signup_ip, '\\.\\d+$', '.0/24')",
}
MAX_NODES = 30


@dataclass(frozen=True)
class Activity:
    """Series for the case page's plots, all over the case's accounts."""

    by_day: list[tuple[str, int]]
    by_hour: list[int]
    capabilities: list[tuple[str, int]]
    output_tokens: list[tuple[str, int]]


@dataclass(frozen=True)
class Links:
    """Accounts and the kinds of key they share: nodes, and edges labelled by key kind."""

    nodes: list[str]
    edges: list[tuple[str, str, str]]


class CaseFacts:
    def __init__(self, findings: Path, lake: Path | None) -> None:
        self.signals = f"read_parquet('{_sql(findings / 'signals')}/*.parquet')"
        self.lake = lake
        self.con = connect_utc()

    def close(self) -> None:
        self.con.close()

    def activity(self, accounts: list[str]) -> Activity:
        cur = self.con.cursor()
        where = "account_id IN (SELECT unnest(?::VARCHAR[]))"
        days = cur.execute(
            f"SELECT strftime(ts, '%Y-%m-%d'), count(*) FROM {self.signals} WHERE {where} "
            "GROUP BY 1 ORDER BY 1",
            [accounts],
        ).fetchall()
        hours = dict(
            cur.execute(
                f"SELECT hour(ts), count(*) FROM {self.signals} WHERE {where} GROUP BY 1",
                [accounts],
            ).fetchall()
        )
        caps = cur.execute(
            f"SELECT capability, count(*) FROM {self.signals} WHERE {where} GROUP BY 1 "
            "ORDER BY 2 DESC",
            [accounts],
        ).fetchall()
        lengths = cur.execute(
            f"""SELECT b, count(*) FROM (
                SELECT CASE WHEN output_tokens < 100 THEN '<100'
                            WHEN output_tokens < 300 THEN '100-299'
                            WHEN output_tokens < 1000 THEN '300-999'
                            WHEN output_tokens < 3000 THEN '1k-3k' ELSE '3k+' END AS b
                FROM {self.signals} WHERE {where}) GROUP BY b""",
            [accounts],
        ).fetchall()
        order = ["<100", "100-299", "300-999", "1k-3k", "3k+"]
        by_length = dict(lengths)
        return Activity(
            [(str(d), int(n)) for d, n in days],
            [int(hours.get(h, 0)) for h in range(24)],
            [(CAPABILITIES[int(c)], int(n)) for c, n in caps],
            [(b, int(by_length.get(b, 0))) for b in order],
        )

    def links(self, accounts: list[str]) -> Links:
        """Pairs among the case's accounts that share a sign-up key or an exit network."""
        nodes = sorted(accounts)[:MAX_NODES]
        edges: set[tuple[str, str, str]] = set()
        cur = self.con.cursor()
        pairs = """SELECT DISTINCT x.account_id, y.account_id FROM k x JOIN k y
                    ON x.key = y.key AND x.account_id < y.account_id"""
        exits = f"""WITH k AS (SELECT DISTINCT account_id, ip_prefix AS key FROM {self.signals}
                    WHERE account_id IN (SELECT unnest(?::VARCHAR[]))) {pairs}"""
        edges.update((a, b, "exit network /24") for a, b in cur.execute(exits, [nodes]).fetchall())
        if self.lake and (self.lake / "accounts" / "accounts.parquet").exists():
            table = f"read_parquet('{_sql(self.lake / 'accounts' / 'accounts.parquet')}')"
            for kind, expr in _LINK_KEYS.items():
                sql = f"""WITH k AS (SELECT account_id, {expr} AS key FROM {table} a
                          WHERE account_id IN (SELECT unnest(?::VARCHAR[])) AND {expr} IS NOT NULL)
                          {pairs}"""
                edges.update((a, b, kind) for a, b in cur.execute(sql, [nodes]).fetchall())
        return Links(nodes, sorted(edges))

    def samples(self, accounts: list[str], limit: int = 5) -> list[dict[str, Any]]:
        """A few exchanges: ids and shapes always; prompt and output text for the template to
        show or redact by role."""
        if self.lake is None or not (self.lake / "exchanges").is_dir():
            return []
        cur = self.con.cursor()
        table = f"read_parquet('{_sql(self.lake / 'exchanges')}/*/*.parquet', union_by_name=true)"
        rows = cur.execute(
            f"""SELECT request_id, account_id, ts, model, system,
                       list_last(list_filter(messages, lambda m: m.role = 'user')).content
                           AS content,
                       output_text, output_tokens
                FROM {table} WHERE account_id IN (SELECT unnest(?::VARCHAR[]))
                ORDER BY ts LIMIT {int(limit)}""",
            [accounts],
        ).fetchall()
        return [_sample(r) for r in rows]


def _sample(row: tuple[Any, ...]) -> dict[str, Any]:
    request_id, account, ts, model, system, content, output, tokens = row
    prompt = " ".join(str(b.get("text") or "") for b in content or [] if isinstance(b, dict))
    return {
        "request_id": request_id,
        "account_id": account,
        "ts": ts,
        "model": model,
        "system": system or "",
        "prompt": prompt,
        "output": output or "",
        "output_tokens": tokens,
    }


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")
