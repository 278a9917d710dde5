"""A sparse lake for the detect benchmark: every account's traffic thinned to a share.

    python -m benchmarks.detect.sparse --lake LAKE --out SPARSE [--keep 0.3]

Keeps each exchange with probability `keep` (by a hash of its request id, so the same
lake gives the same sparse lake) and every account, so the log spans the same days and
accounts with a third of the traffic: about the held-out reported lake's density (537,630
exchanges over 14 days and 15,500 accounts) from the 14-day reported-2026 lake. The hourly
ticks then hold little each, which is what the replay's cost must follow.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from distillguard.ingest.lake import Lake, connect, sql_path


def thin(lake: Lake, out: Path, keep: float) -> int:
    shutil.rmtree(out, ignore_errors=True)
    target = Lake(out)
    target.exchanges_dir.mkdir(parents=True)
    target.accounts_path.parent.mkdir(parents=True)
    shutil.copy(lake.accounts_path, target.accounts_path)
    con = connect()
    kept = con.sql(f"""
        SELECT * FROM {lake.exchanges_sql()}
        WHERE hash(request_id) % 1000000 < {round(keep * 1_000_000)}""")
    con.execute(
        f"COPY ({kept.sql_query()}) TO '{sql_path(target.exchanges_dir)}' "
        "(FORMAT parquet, PARTITION_BY (date), OVERWRITE_OR_IGNORE)"
    )
    ((rows,),) = con.sql(f"SELECT count(*) FROM {target.exchanges_sql()}").fetchall()
    return int(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--keep", type=float, default=0.3)
    args = parser.parse_args()
    rows = thin(Lake(args.lake), args.out, args.keep)
    print(f"{rows:,} exchanges kept in {args.out}")


if __name__ == "__main__":
    main()
