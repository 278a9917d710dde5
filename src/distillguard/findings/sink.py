"""What a sink is: it takes one run's results and writes one output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from distillguard.detect.results import AccountResult, ClusterResult
from distillguard.findings.lifecycle import PreviousFindings
from distillguard.findings.responses import GatewayAction


@dataclass(frozen=True)
class RunResults:
    """Everything a sink may write about one detection run.

    `time` is when the run produced its results (the findings' event time); `previous` are
    the findings the run before wrote, so a finding is updated or closed rather than
    duplicated; `responses` are what the gateway did to each account, when it acted;
    `fingerprints` are each account's and cluster's most used prompt-template fingerprints,
    written only as keyed hashes under `fingerprint_key`.
    """

    accounts: tuple[AccountResult, ...]
    clusters: tuple[ClusterResult, ...]
    time: datetime
    cluster_stats: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    previous: PreviousFindings = field(default_factory=PreviousFindings)
    responses: Mapping[str, GatewayAction] = field(default_factory=dict)
    fingerprints: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    fingerprint_key: bytes | None = field(default=None, repr=False)  # a secret: never printed
    # account id -> why an analyst dismissed it ("dismissed by NAME: REASON"), for the
    # accounts whose flags the allowlist lifted: their open findings close as Suppressed
    dismissed: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SinkOutput:
    """What a sink wrote: its files and how many records they hold."""

    paths: tuple[Path, ...]
    records: int


class FindingSink(Protocol):
    """One output of a run. `write` creates `out` if needed and creates or replaces its
    files there; the same results give the same bytes."""

    name: str
    description: str

    def write(self, run: RunResults, out: Path) -> SinkOutput: ...
