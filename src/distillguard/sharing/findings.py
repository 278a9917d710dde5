"""`share match`: local accounts matching a peer's indicators, as findings and sightings.

Each matched account becomes a finding whose evidence keeps what was observed (which
indicator, of what kind, how many exchanges, when first) apart from what is inferred (the
same operator as the peer's campaign, with a confidence). The producer hears back through
STIX `sighting`s: one per matched indicator, with counts only, never an account id.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import stix2

from distillguard.detect.case_files import write_evidence
from distillguard.detect.results import AccountResult
from distillguard.detect.signals_stage import signals_sql, signals_to_parquet
from distillguard.errors import UserError
from distillguard.findings.lifecycle import PreviousFindings
from distillguard.findings.ocsf import OcsfSink
from distillguard.findings.sink import RunResults
from distillguard.ingest import Lake
from distillguard.ingest.lake import sql_path
from distillguard.scoring.evidence import Evidence
from distillguard.sharing import stix
from distillguard.sharing.fingerprints import KIND_BY_NAME
from distillguard.sharing.keys import CommunityKey
from distillguard.sharing.match import (
    Match,
    combine,
    indicator_strength,
    match_events,
    matched_exchanges,
    matches,
)
from distillguard.sharing.peer import PeerBundle, PeerIndicator, read_bundle, same_operator
from distillguard.store.duck import connect_utc

MATCH_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("confidence", pa.float64()),
        ("campaigns", pa.string()),
        ("indicators", pa.int64()),
        ("exchanges", pa.int64()),
        ("first_match_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class MatchSummary:
    accounts: list[AccountResult]
    sightings: int
    indicators: int
    skipped: int
    out: Path
    other_key: int = 0  # indicators made under another community key (or naming none)
    revoked: int = 0  # indicators their producer revoked: not matched

    def line(self) -> str:
        # skipped: not a keyed fingerprint pattern (another tool's indicator, or damaged)
        other = f", {self.other_key} under another community key" if self.other_key else ""
        other += f", {self.revoked} revoked" if self.revoked else ""
        return (
            f"share match: {self.indicators} peer indicator(s) ({self.skipped} skipped: not "
            f"distillguard's keyed form{other}), "
            f"{len(self.accounts)} local account(s) matched, {self.sightings} sighting(s) "
            f"-> {self.out}"
        )


def _evidence(indicator: PeerIndicator, m: Match, campaign: str) -> Evidence:
    """One matched indicator: observed, which and how often; inferred, its campaign's
    operator (`campaign`: the name the peer gave it, empty where none)."""
    strength = indicator_strength(indicator.kind, indicator.confidence, np.array([m.exchanges]))
    return Evidence(
        "peer_indicator",
        f"matches a peer's {KIND_BY_NAME[indicator.kind].title}",
        {
            "indicator": indicator.indicator_id,
            "kind": indicator.kind,
            "exchanges": m.exchanges,
            "first_seen": m.first_seen.isoformat(),
        },
        same_operator([campaign] if campaign else []),
        round(float(strength[0]), 3),
    )


def account_findings(
    peer: PeerBundle, found: list[Match], exchanges: dict[str, int]
) -> list[AccountResult]:
    """One finding per matched account; `exchanges`: its matched exchanges, each once."""
    by_id = {i.indicator_id: i for i in peer.indicators}
    by_account: dict[str, list[Match]] = {}
    for m in found:
        by_account.setdefault(m.account_id, []).append(m)
    results = []
    for account, ms in sorted(by_account.items()):
        names = sorted({peer.campaigns.get(by_id[m.indicator_id].campaign, "") for m in ms} - {""})
        evidence = [_evidence(by_id[m.indicator_id], m, _campaign(peer, by_id, m)) for m in ms]
        per_kind: dict[str, np.ndarray] = {}
        for e in evidence:
            kind = str(e.observed["kind"])
            per_kind[kind] = np.maximum(per_kind.get(kind, np.zeros(1)), e.confidence)
        score = float(combine(per_kind, 1)[0])
        # Observed: which of the peer's indicators, and how many exchanges (each once,
        # though one often matches several indicators). Inferred: the campaign.
        summary = Evidence(
            "peer_campaign",
            "matches indicators a peer shared",
            {"campaigns": names, "indicators": len(ms), "exchanges": exchanges[account]},
            same_operator(names),
            round(score, 3),
        )
        evidence.sort(key=lambda e: -e.confidence)
        first = min(m.first_seen for m in ms)
        results.append(
            AccountResult(
                account, round(score, 4), True, "peer", None, first, (summary, *evidence[:20])
            )
        )
    return results


def _campaign(peer: PeerBundle, by_id: dict[str, PeerIndicator], m: Match) -> str:
    return peer.campaigns.get(by_id[m.indicator_id].campaign, "")


def sightings(peer: PeerBundle, found: list[Match], name: str, tlp: str) -> stix2.Bundle:
    """One sighting per matched indicator, by `name`, with counts only."""
    me, marking = stix.producer(name), stix.tlp_marking(tlp)
    made = datetime.now(UTC)  # each match run's sightings are a new version of the last
    per: dict[str, list[Match]] = {}
    for m in found:
        per.setdefault(m.indicator_id, []).append(m)
    objects: list[Any] = [stix.PROJECT, stix.PROPERTIES, marking, me]
    for indicator_id, ms in sorted(per.items()):
        exchanges = sum(m.exchanges for m in ms)
        first, last = min(m.first_seen for m in ms), max(m.last_seen for m in ms)
        objects.append(
            stix2.Sighting(  # a stable id: created is the traffic's first, this run later
                id=f"sighting--{stix.stable_uuid(me.id, indicator_id)}",
                created=first,
                modified=max(last, made),
                created_by_ref=me.id,
                sighting_of_ref=indicator_id,
                where_sighted_refs=[me.id],
                count=exchanges,
                first_seen=first,
                last_seen=last,
                description=f"Seen in the traffic of {_count(len(ms), 'local account')} "
                f"({_count(exchanges, 'exchange')}).",
                object_marking_refs=[marking.id],
                extensions=stix.counts(accounts_seen=len(ms), exchanges_seen=exchanges),
            )
        )
    return stix2.Bundle(*objects, allow_custom=False)


def _write_matches(path: Path, results: list[AccountResult]) -> None:
    rows = []
    for r in results:
        inferred = r.evidence[0].observed
        rows.append(
            {
                "account_id": r.account_id,
                "confidence": r.score,
                "campaigns": "; ".join(inferred["campaigns"]),  # type: ignore[arg-type]
                "indicators": inferred["indicators"],
                "exchanges": inferred["exchanges"],
                "first_match_at": r.first_flagged_at,
            }
        )
    table = pa.Table.from_pylist(rows, schema=MATCH_SCHEMA)
    pq.write_table(table, path.with_suffix(".parquet"))
    pa_csv.write_csv(table, path.with_suffix(".csv"))


def match_lake(
    bundle: Path, lake_dir: Path, key: CommunityKey, out: Path, *, name: str, tlp: str
) -> MatchSummary:
    """Match a lake's traffic against a peer bundle; write matches, findings, sightings."""
    lake = Lake(lake_dir)
    if not (lake_dir / "exchanges").is_dir():
        raise UserError(f"{lake_dir} is not a lake (no exchanges/)")
    peer = read_bundle(bundle, key)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=out, prefix=".signals-"))
    try:
        signals_to_parquet(lake, scratch)
        con = connect_utc()
        con.execute(f"CREATE VIEW signals AS SELECT * FROM {signals_sql(scratch)}")
        accounts = None
        if lake.accounts_path.exists():
            path = sql_path(lake.accounts_path)
            con.execute(f"CREATE VIEW accounts AS SELECT * FROM read_parquet('{path}')")
            accounts = "accounts"
        events = match_events(con, "signals", accounts, key, peer)
        found, exchanges = matches(con, events), matched_exchanges(con, events)
        con.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results = account_findings(peer, found, exchanges)
    _write_matches(out / "matches", results)
    write_evidence(out, results, [])  # the console's case pages read it (console --matches)
    # As detect does: a re-run into the same folder updates or closes its findings.
    previous = PreviousFindings.read(out)
    OcsfSink().write(RunResults(tuple(results), (), datetime.now(UTC), previous=previous), out)
    bundle_out = sightings(peer, found, name, tlp)
    (out / "sightings.json").write_text(stix.dumps(bundle_out))
    n_sightings = sum(1 for o in bundle_out.objects if o.type == "sighting")
    return MatchSummary(
        results, n_sightings, len(peer.indicators), peer.skipped, out, peer.other_key, peer.revoked
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
