"""Hours are cut in UTC whatever the machine's zone (store/duck.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import distillguard

# Half past midnight UTC is 06:00 in Kolkata (+05:30): a session in the machine's zone cuts
# the hour at 05:30 UTC's half hour and names it 6.
PROBE = """
import json, duckdb
from distillguard.ingest.lake import connect
from distillguard.store.duck import connect_utc
query = "SELECT hour(ts), date_trunc('hour', ts)::VARCHAR, date_trunc('day', ts)::VARCHAR FROM "
query += "(SELECT TIMESTAMPTZ '2026-01-01 00:40:00+00' AS ts)"
cons = {"plain": duckdb.connect(), "utc": connect_utc(), "lake": connect()}
cons["cursor"] = cons["utc"].cursor()
print(json.dumps({k: list(c.execute(query).fetchall()[0]) for k, c in cons.items()}))
"""


def _probe(zone: str) -> dict[str, list[object]]:
    env = {**os.environ, "TZ": zone}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=env
    )
    found: dict[str, list[object]] = json.loads(done.stdout)
    return found


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/New_York", "UTC"])
def test_connections_cut_hours_and_days_in_utc(zone: str) -> None:
    utc = [0, "2026-01-01 00:00:00+00", "2026-01-01 00:00:00+00"]
    found = _probe(zone)
    assert found["utc"] == found["lake"] == found["cursor"] == utc
    if zone != "UTC":  # the plain connection shows the probe can tell zones apart
        assert found["plain"] != utc


def test_every_duckdb_connection_in_the_package_is_opened_in_utc() -> None:
    package = Path(distillguard.__file__).parent
    opened = [
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if "duckdb.connect(" in p.read_text()
    ]
    assert opened == ["store/duck.py"]
