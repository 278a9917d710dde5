"""Sigma rules converted with pySigma's backends, and the DuckDB ones run over a lake."""

from __future__ import annotations

from pathlib import Path

import duckdb
from sigma.backends.splunk.splunk import SplunkBackend
from sigma.collection import SigmaCollection
from sigma.processing.pipeline import ProcessingPipeline
from sigma_backend_duckdb import DuckDBBackend

from distillguard.findings.sigma import EXCHANGES_VIEW


def duckdb_query(rule: Path) -> str:
    # The DuckDB backend's default pipeline renames Sysmon fields; ours are exchange-log
    # fields already, so it runs with an empty pipeline.
    backend = DuckDBBackend(processing_pipeline=ProcessingPipeline())
    [query] = backend.convert(SigmaCollection.from_yaml(rule.read_text()))
    return str(query)


def splunk_query(rule: Path) -> str:
    [query] = SplunkBackend().convert(SigmaCollection.from_yaml(rule.read_text()))
    return str(query)


def matched_ids(lake: Path, rule: Path) -> set[str]:
    """Request ids the rule's DuckDB query matches, run over the lake itself."""
    con = duckdb.connect()
    con.execute(EXCHANGES_VIEW.format(exchanges=f"{lake.as_posix()}/exchanges/*/*.parquet"))
    return {
        str(r[0]) for r in con.execute(f"SELECT request_id FROM ({duckdb_query(rule)})").fetchall()
    }
