"""Checks from SIMULATION.md: nothing but behaviour separates attack from benign traffic.

Shallow models (depth-2/3 trees) on fields that should carry no label must do no better
than chance; no value of a categorical field may belong to attack accounts alone.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest
from sklearn.model_selection import cross_val_score
from sklearn.tree import DecisionTreeClassifier

from distillguard.simulate import SimSummary

HEAVY_BENIGN = (
    "power_user",
    "coding_agent",
    "batch_pipeline",
    "eval_runner",
    "app_backend",
    "ci_agent",
)


def _rows(run: SimSummary, sql: str) -> list[tuple[object, ...]]:
    exchanges, accounts, labels = (str(p) for p in run.files)
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW exchanges AS SELECT * FROM '{exchanges}'")
        con.execute(f"CREATE VIEW accounts AS SELECT * FROM '{accounts}'")
        con.execute(f"CREATE VIEW labels AS SELECT * FROM '{labels}'")
        return con.execute(sql).fetchall()


def _codes(values: list[object]) -> list[int]:
    index = {v: i for i, v in enumerate(sorted({str(v) for v in values}))}
    return [index[str(v)] for v in values]


def _auc(rows: list[tuple[object, ...]], depth: int = 2) -> float:
    """Cross-validated AUC of a shallow tree; the label is the last column."""
    y = np.array([bool(r[-1]) for r in rows])
    x = np.array([_codes([r[i] for r in rows]) for i in range(len(rows[0]) - 1)]).T
    tree = DecisionTreeClassifier(max_depth=depth, random_state=0)
    return float(cross_val_score(tree, x, y, scoring="roc_auc", cv=5).mean())


def test_ids_carry_no_label(tiny_run: SimSummary) -> None:
    accounts = _rows(tiny_run, "SELECT account_id, label = 'attack' FROM labels")
    requests = _rows(
        tiny_run,
        """SELECT request_id, l.label = 'attack' FROM exchanges
           JOIN labels l USING (account_id) USING SAMPLE 20000 (reservoir, 1)""",
    )
    for rows, prefix in ((accounts, "acct_"), (requests, "req_")):
        assert len({len(str(r[0])) for r in rows}) == 1, "one id length for everyone"
        assert all(str(r[0]).startswith(prefix) for r in rows)
        digits = [(*[int(c, 16) for c in str(r[0])[len(prefix) :][:16]], r[1]) for r in rows]
        assert _auc(digits, depth=3) < 0.6


def test_signup_fields_carry_no_label_within_a_tier(tiny_run: SimSummary) -> None:
    for tier in ("paid", "startup"):
        rows = _rows(
            tiny_run,
            f"""
            SELECT a.verified, a.payment_fingerprint IS NULL,
                   regexp_extract(a.email_domain, '\\.([a-z]+)$', 1), a.signup_country,
                   l.label = 'attack'
            FROM accounts a JOIN labels l USING (account_id) WHERE a.tier = '{tier}'""",
        )
        assert _auc(rows) < 0.65, tier


def test_clients_do_not_separate_attackers_from_heavy_users(tiny_run: SimSummary) -> None:
    heavy = ", ".join(f"'{p}'" for p in HEAVY_BENIGN)
    rows = _rows(
        tiny_run,
        f"""
        SELECT e.user_agent, e.access_path, e.temperature, e.country, l.label = 'attack'
        FROM exchanges e JOIN labels l USING (account_id)
        WHERE l.label = 'attack' OR l.population IN ({heavy})
        USING SAMPLE 30000 (reservoir, 1)""",
    )
    assert _auc(rows) < 0.7


@pytest.mark.parametrize(
    "field",
    [
        "user_agent",
        "access_path",
        "model",
        "max_tokens",
        "temperature",
        "thinking_budget",
        "country",
        "(asn // 1000)",
        "system",
        "tools",
        "stop_reason",
        "status",
    ],
)
def test_no_value_belongs_to_attackers_alone(tiny_run: SimSummary, field: str) -> None:
    # ASNs are compared by operator block: a proxy network that rotates exits reaches more
    # small ISPs than a thousand test users do, which is behaviour, not an artefact.
    only_attack = _rows(
        tiny_run,
        f"""
        WITH used AS (
          SELECT {field}::VARCHAR AS v, l.label, count(DISTINCT e.account_id) AS n
          FROM exchanges e JOIN labels l USING (account_id) GROUP BY ALL)
        SELECT v, n FROM used WHERE label = 'attack' AND n >= 3 AND v IS NOT NULL
          AND v NOT IN (SELECT v FROM used WHERE label = 'benign' AND v IS NOT NULL)""",
    )
    assert only_attack == []


def test_adaptive_attackers_keep_per_account_rates_low(tiny_run: SimSummary) -> None:
    [(median,)] = _rows(
        tiny_run,
        """
        SELECT median(n) FROM (
          SELECT e.account_id, e.ts::DATE AS day, count(*) AS n
          FROM exchanges e JOIN labels l USING (account_id)
          WHERE l.campaign = 'quiet' GROUP BY ALL)""",
    )
    assert float(str(median)) <= 10


def test_accounts_file_is_exchange_log(tiny_run: SimSummary, tmp_path: Path) -> None:
    [(tiers,)] = _rows(tiny_run, "SELECT list(DISTINCT tier ORDER BY tier) FROM accounts")
    assert isinstance(tiers, list)
    assert set(tiers) <= {
        "free",
        "paid",
        "enterprise",
        "education",
        "research",
        "startup",
    }
