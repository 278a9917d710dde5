"""Gathering a detection run's results for the sinks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from distillguard.detect.results import AccountResult, ClusterResult
from distillguard.findings.fingerprints import template_fingerprints
from distillguard.findings.lifecycle import PreviousFindings
from distillguard.findings.responses import GatewayAction
from distillguard.findings.sink import RunResults
from distillguard.findings.subjects import reported_accounts


@dataclass(frozen=True)
class FindingsOptions:
    """How detect writes findings. `previous`: the folder holding the last run's findings
    (default: detect's own output folder, read before it is written); `fingerprint_key`:
    HMAC key for template fingerprints (none: findings carry no fingerprints);
    `responses`: what the gateway did to each account."""

    previous: Path | None = None
    fingerprint_key: bytes | None = field(default=None, repr=False)  # a secret: never printed
    responses: Mapping[str, GatewayAction] = field(default_factory=dict)

    def read_previous(self, out: Path) -> PreviousFindings:
        return PreviousFindings.read(self.previous or out, required=self.previous is not None)


def collect(
    con: duckdb.DuckDBPyConnection,
    signals: str,
    accounts: list[AccountResult],
    clusters: list[ClusterResult],
    *,
    cluster_stats: Mapping[str, tuple[int, str]],
    previous: PreviousFindings,
    options: FindingsOptions,
    dismissed: Mapping[str, str] | None = None,
) -> RunResults:
    fingerprints = {}
    if options.fingerprint_key is not None:
        groups = {a.account_id: [a.account_id] for a in reported_accounts(accounts)}
        groups |= {c.cluster_id: list(c.accounts) for c in clusters if c.flagged}
        fingerprints = template_fingerprints(con, signals, groups)
    return RunResults(
        tuple(accounts),
        tuple(clusters),
        datetime.now(UTC),
        cluster_stats=cluster_stats,
        previous=previous,
        responses=options.responses,
        fingerprints=fingerprints,
        fingerprint_key=options.fingerprint_key,
        dismissed=dismissed or {},
    )
