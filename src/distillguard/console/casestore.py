"""The case store: one DuckDB file holding the queue a detect run produced and every decision.

`cases` is rebuilt from the findings folder at each start (a detect run replaces it whole);
`decisions` and `audit` are append-only and survive every rebuild, so a case's status is its
latest decision and nothing an analyst did is ever rewritten.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from distillguard.errors import UserError
from distillguard.signals.capabilities import CAPABILITIES
from distillguard.store.duck import connect_or_say

STATUSES = ("new", "confirmed", "dismissed", "escalated")
PAGE = 50
# An account case whose flagged cluster is a case of its own.
FOLDED = (
    "kind = 'account' AND cluster_id IS NOT NULL "
    "AND cluster_id IN (SELECT id FROM cases WHERE kind = 'cluster')"
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    kind VARCHAR, id VARCHAR, status VARCHAR, action VARCHAR, note VARCHAR,
    who VARCHAR, decided_at TIMESTAMPTZ, expires TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS audit (
    logged_at TIMESTAMPTZ, who VARCHAR, what VARCHAR, kind VARCHAR, id VARCHAR, detail VARCHAR);
"""
_CAPS = "[" + ", ".join(f"'{c}'" for c in CAPABILITIES) + "]"


@dataclass(frozen=True)
class QueueFilter:
    """What an analyst narrowed the queue to; empty strings mean no filter."""

    campaign: str = ""
    capability: str = ""
    tier: str = ""
    kind: str = ""
    access_path: str = ""
    status: str = ""
    since: str = ""
    until: str = ""
    sort: str = "score"
    members: str = ""  # "listed": show members of flagged clusters in the unfiltered queue
    page: int = 1

    def folds(self) -> bool:
        """Whether members of flagged clusters are left out, to be read under their
        cluster: in the plain queue only, where a cluster's fifty members would otherwise
        fill the first page ahead of the clusters. Any filter on who is shown lists them."""
        narrowed = (self.campaign, self.capability, self.tier, self.kind, self.access_path)
        # A date range too: a new member of an old campaign is found by its own date.
        return not (any(narrowed) or self.status or self.since or self.until or self.members)

    def where(self) -> tuple[str, list[Any]]:
        parts, params = ["TRUE"], []
        if self.folds():
            parts.append(f"NOT ({FOLDED})")
        for column, value in (
            ("cluster_id", self.campaign),
            ("capability", self.capability),
            ("tier", self.tier),
            ("kind", self.kind),
            ("access_path", self.access_path),
            ("status", self.status),
        ):
            if value:
                parts.append(f"{column} = ?")
                params.append(value)
        if self.since:
            parts.append("first_at >= CAST(? AS DATE)")
            params.append(self.since)
        if self.until:
            parts.append("first_at < CAST(? AS DATE) + INTERVAL 1 DAY")
            params.append(self.until)
        return " AND ".join(parts), params


@dataclass(frozen=True)
class QueuePage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    facets: dict[str, list[str]] = field(default_factory=dict)
    folded: int = 0  # member accounts left out of this view, read under their clusters


class StaleCaseError(UserError):
    """A decision made on a page older than the case: another was recorded since."""

    def __init__(self, since: list[dict[str, Any]]) -> None:
        said = "; ".join(
            f"{row['who']}: {row['status'] or 'a note'}"
            + (f" ({row['action']})" if row["action"] else "")
            for row in since
        )
        super().__init__(
            "the case was decided since this page was opened"
            + (f" ({said})" if said else "")
            + ": read it again and decide"
        )


class CaseStore:
    """The console's DuckDB database; one connection, a cursor per call, a lock for writes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con = connect_or_say(
            str(path),
            f"another console is running over {path.parent} (its case store is locked): "
            "stop it, or give this one another --home",
        )
        self.con.execute(_SCHEMA)
        self._write = threading.Lock()

    def close(self) -> None:
        self.con.close()

    def load(self, findings: Path) -> int:
        """Rebuild `cases` from a detect output folder; how many cases it holds."""
        signals = f"read_parquet('{_sql(findings / 'signals')}/*.parquet')"
        with self._write:
            cur = self.con.cursor()
            cur.execute(f"""
                CREATE OR REPLACE TABLE account_mix AS
                SELECT account_id, count(*) AS n_exchanges,
                       {_CAPS}[mode(capability) + 1] AS capability,
                       mode(access_path) AS access_path
                FROM {signals} GROUP BY account_id""")
            cur.execute(f"""
                CREATE OR REPLACE TABLE cases AS
                SELECT 'account' AS kind, a.account_id AS id, a.score,
                       CASE WHEN a.flagged THEN 'flagged' ELSE 'review' END AS tier,
                       a.cluster_id, coalesce(a.first_flagged_at, a.first_review_at) AS first_at,
                       m.capability, m.access_path, m.n_exchanges, 1 AS n_accounts, a.reasons
                FROM read_parquet('{_sql(findings / "accounts.parquet")}') a
                LEFT JOIN account_mix m USING (account_id)
                WHERE a.flagged OR a.review""")
            cur.execute(f"""
                INSERT INTO cases
                SELECT 'cluster', c.cluster_id, c.score, 'flagged', c.cluster_id,
                       c.first_flagged_at, split_part(split_part(c.capabilities, ',', 1), ' ', 1),
                       (SELECT mode(m.access_path) FROM account_mix m
                        JOIN read_parquet('{_sql(findings / "accounts.parquet")}') a
                        USING (account_id) WHERE a.cluster_id = c.cluster_id),
                       c.n_exchanges, c.n_accounts, c.reasons
                FROM read_parquet('{_sql(findings / "clusters.parquet")}') c
                WHERE c.flagged""")
            row = cur.execute("SELECT count(*) FROM cases").fetchone()
        return int(row[0]) if row else 0

    def add_matches(self, matches: Path) -> int:
        """Add a `share match` folder's accounts to the queue; how many it matched.

        An account detect did not queue becomes a case of the `peer` tier, scored by the
        match's confidence; one it queued keeps its case and tier, its reasons extended.
        """
        path = f"read_parquet('{_sql(matches / 'matches.parquet')}')"
        reason = (
            "'peer indicators: ' || m.indicators || ' matched over ' || m.exchanges "
            "|| ' exchange(s), ' || coalesce(nullif(m.campaigns, ''), 'no campaign named')"
        )
        with self._write:
            cur = self.con.cursor()
            cur.execute(f"CREATE TEMP TABLE peer_matches AS SELECT * FROM {path}")  # read once
            cur.execute(f"""
                UPDATE cases SET reasons = cases.reasons || '; ' || {reason}
                FROM peer_matches m WHERE cases.kind = 'account' AND cases.id = m.account_id""")
            cur.execute(f"""
                INSERT INTO cases
                SELECT 'account', m.account_id, m.confidence, 'peer', NULL, m.first_match_at,
                       x.capability, x.access_path, coalesce(x.n_exchanges, m.exchanges), 1,
                       {reason}
                FROM peer_matches m LEFT JOIN account_mix x USING (account_id)
                WHERE m.account_id NOT IN (SELECT id FROM cases WHERE kind = 'account')""")
            row = cur.execute("SELECT count(*) FROM peer_matches").fetchone()
            cur.execute("DROP TABLE peer_matches")
        return int(row[0]) if row else 0

    def _with_status(self) -> str:
        """Each case with its status: its latest live decision's, or, for an account, its
        cluster's when that came later (escalating or dismissing a cluster decides for its
        members, whose own pages and the status filter said "new")."""
        return """
            WITH latest AS (
                SELECT kind, id, arg_max(status, decided_at) AS status,
                       max(decided_at) AS at FROM decisions
                WHERE status IS NOT NULL AND (expires IS NULL OR expires > now())
                GROUP BY ALL)
            SELECT c.*, coalesce(
                CASE WHEN l.at IS NULL OR g.at > l.at THEN g.status END, l.status, 'new'
            ) AS status
            FROM cases c
            LEFT JOIN latest l ON l.kind = c.kind AND l.id = c.id
            LEFT JOIN latest g ON c.kind = 'account' AND g.kind = 'cluster'
                               AND g.id = c.cluster_id"""

    def queue(self, filt: QueueFilter) -> QueuePage:
        where, params = filt.where()
        order = "first_at DESC, score DESC" if filt.sort == "recent" else "score DESC, first_at"
        cur = self.con.cursor()
        base = f"SELECT * FROM ({self._with_status()}) WHERE {where}"
        total = int(cur.execute(f"SELECT count(*) FROM ({base})", params).fetchone()[0])  # type: ignore[index]
        pages = max(1, -(-total // PAGE))
        page = min(max(filt.page, 1), pages)
        result = cur.execute(
            f"{base} ORDER BY {order}, kind, id LIMIT {PAGE} OFFSET {(page - 1) * PAGE}", params
        )
        rows = _dicts(result)
        return QueuePage(rows, total, page, pages, self.facets(), self._folded(filt))

    def _folded(self, filt: QueueFilter) -> int:
        if not filt.folds():
            return 0
        row = self.con.cursor().execute(f"SELECT count(*) FROM cases WHERE {FOLDED}").fetchone()
        return int(row[0]) if row else 0

    def facets(self) -> dict[str, list[str]]:
        """The values the run's cases hold, per column a queue filter may name."""
        cur = self.con.cursor()
        out = {}
        for column in ("capability", "access_path", "cluster_id"):
            rows = cur.execute(
                f"SELECT DISTINCT {column} FROM cases WHERE {column} IS NOT NULL ORDER BY 1"
            ).fetchall()
            out[column] = [str(r[0]) for r in rows]
        return out

    def case(self, kind: str, case_id: str) -> dict[str, Any] | None:
        cur = self.con.cursor()
        rows = _dicts(
            cur.execute(
                f"SELECT * FROM ({self._with_status()}) WHERE kind = ? AND id = ?",
                [kind, case_id],
            )
        )
        return rows[0] if rows else None

    def record(
        self, kind: str, case_id: str, by: str, seen: int | None = None, **decision: Any
    ) -> None:
        """Append a decision (status, action, note, expires) and its audit line. With
        `seen` (the decisions the analyst's page showed), a case decided since is refused
        with StaleCaseError: the analyst decided on what is no longer the case."""
        at = datetime.now(UTC)
        with self._write:
            cur = self.con.cursor()
            if seen is not None:
                self._check_seen(kind, case_id, seen)
            cur.execute(
                "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    kind,
                    case_id,
                    decision.get("status"),
                    decision.get("action"),
                    decision.get("note"),
                    by,
                    at,
                    decision.get("expires"),
                ],
            )
            detail = ", ".join(f"{k}={v}" for k, v in decision.items() if v is not None)
            what = decision.get("status") or ("note" if decision.get("note") else "decision")
            cur.execute(
                "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?)", [at, by, what, kind, case_id, detail]
            )

    def _check_seen(self, kind: str, case_id: str, seen: int) -> None:
        history = self.decided(kind, case_id)
        if len(history) != seen:
            raise StaleCaseError(history[seen:] if seen < len(history) else [])

    def decided(self, kind: str, case_id: str) -> list[dict[str, Any]]:
        """The decisions a decision on this case must have seen, in time order: its own,
        and for an account its cluster's (an escalation of the cluster sets the member's
        verdict, which the member's dismissal would lift)."""
        own = self.history(kind, case_id)
        cluster = self.cluster_of(case_id) if kind == "account" else ""
        if not cluster:
            return own
        return sorted(own + self.history("cluster", str(cluster)), key=lambda r: r["decided_at"])

    def cluster_of(self, account: str) -> str:
        """The account case's cluster, "" when it has none (read alone: `case` would work
        out every case's status to give one row)."""
        row = (
            self.con.cursor()
            .execute("SELECT cluster_id FROM cases WHERE kind = 'account' AND id = ?", [account])
            .fetchone()
        )
        return str(row[0]) if row and row[0] else ""

    def history(self, kind: str, case_id: str) -> list[dict[str, Any]]:
        cur = self.con.cursor()
        return _dicts(
            cur.execute(
                "SELECT * FROM decisions WHERE kind = ? AND id = ? ORDER BY decided_at",
                [kind, case_id],
            )
        )

    def audit_log(self, limit: int = 200) -> list[dict[str, Any]]:
        cur = self.con.cursor()
        sql = f"SELECT * FROM audit ORDER BY logged_at DESC LIMIT {int(limit)}"
        return _dicts(cur.execute(sql))


def _dicts(result: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in result.description or []]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")
