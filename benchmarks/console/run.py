"""Console benchmark: the queue and a case page over a findings folder of 100k accounts.

    python -m benchmarks.console.run [--accounts 100000] [--exchanges-per-account 5]

Writes a synthetic findings folder (every account flagged or listed for review, the worst
case for the queue; 1,000 clusters; signals with a few exchanges each), builds the case
store, and times the requests an analyst makes, in process (no HTTP), median of 5.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.console.casefacts import CaseFacts
from distillguard.console.casestore import CaseStore, QueueFilter
from distillguard.detect.outputs import ACCOUNT_SCHEMA, CLUSTER_SCHEMA

START = datetime(2026, 2, 1, tzinfo=UTC)


def write_findings(out: Path, accounts: int, per_account: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    ids = [f"acct_{i:08d}" for i in range(accounts)]
    clusters = [f"c-{i % 1000:04d}" if i % 3 == 0 else None for i in range(accounts)]
    first = [START + timedelta(hours=int(h)) for h in rng.integers(0, 24 * 14, accounts)]
    flagged = rng.random(accounts) < 0.7
    table = {
        "account_id": ids,
        "score": rng.random(accounts),
        "flagged": flagged,
        "flagged_by": ["account"] * accounts,
        "cluster_id": clusters,
        "first_flagged_at": [f if x else None for f, x in zip(first, flagged, strict=True)],
        "review": ~flagged,
        "first_review_at": [None if x else f for f, x in zip(first, flagged, strict=True)],
        "reasons": ["elicits step-by-step reasoning; a new account at high volume"] * accounts,
    }
    pq.write_table(pa.Table.from_pydict(table, schema=ACCOUNT_SCHEMA), out / "accounts.parquet")
    cluster_ids = [f"c-{i:04d}" for i in range(1000)]
    pq.write_table(
        pa.Table.from_pydict(
            {
                "cluster_id": cluster_ids,
                "n_accounts": [34] * 1000,
                "n_exchanges": [170] * 1000,
                "score": rng.random(1000),
                "flagged": [True] * 1000,
                "first_flagged_at": [START] * 1000,
                "capabilities": ["agentic 70%, chat 30%"] * 1000,
                "reasons": ["unrelated accounts share payment cards"] * 1000,
            },
            schema=CLUSTER_SCHEMA,
        ),
        out / "clusters.parquet",
    )
    rows = accounts * per_account
    (out / "signals").mkdir()
    pq.write_table(
        pa.table(
            {
                "account_id": np.repeat(ids, per_account),
                "ts": pa.array(
                    [START + timedelta(minutes=int(m)) for m in rng.integers(0, 20160, rows)],
                    pa.timestamp("us", tz="UTC"),
                ),
                "capability": rng.integers(0, 7, rows),
                "access_path": rng.choice(["api", "console"], rows),
                "ip_prefix": rng.choice([f"10.{i}.0.0/24" for i in range(500)], rows),
                "output_tokens": rng.integers(10, 4000, rows),
            }
        ),
        out / "signals" / "part-000000.parquet",
    )


def timed(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--exchanges-per-account", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    write_findings(work, args.accounts, args.exchanges_per_account)
    store = CaseStore(work / "home" / "cases.duckdb")
    started = time.perf_counter()
    cases = store.load(work)
    print(f"case store: {cases:,} cases loaded in {time.perf_counter() - started:.2f} s")
    facts = CaseFacts(work, None)
    members = [f"acct_{i:08d}" for i in range(0, 102, 3)]
    checks = {
        "queue, first page": lambda: store.queue(QueueFilter()),
        "queue, by capability and tier": lambda: store.queue(
            QueueFilter(capability="agentic", tier="flagged")
        ),
        "queue, last page, most recent": lambda: store.queue(
            QueueFilter(sort="recent", page=10**6)
        ),
        "case page facts (34 accounts)": lambda: (facts.activity(members), facts.links(members)),
    }
    for name, fn in checks.items():
        print(f"{name}: {timed(fn):.0f} ms (median of 5)")


if __name__ == "__main__":
    main()
