"""`share export`: a detect run's flagged clusters as a STIX 2.1 bundle of keyed indicators.

Per flagged cluster: a `campaign`; an `indicator` per shared fingerprint (see `select`),
its pattern over the keyed value, with confidence, validity, kill-chain phase and counts;
an `infrastructure` for the networks the operator ran through; `relationship`s between
them. Everything carries a TLP 2.0 marking and the producer's identity. Raw values, account
ids and cluster ids never enter an object: only keyed values and counts do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import stix2

from distillguard.detect.case_files import lake_of_run, read_run
from distillguard.errors import ConfigError, UserError
from distillguard.ingest.lake import Lake, sql_path
from distillguard.sharing import stix
from distillguard.sharing.bundle_objects import BundleBuilder, FlaggedCluster
from distillguard.sharing.fingerprints import holdings_sql
from distillguard.sharing.keys import CommunityKey
from distillguard.sharing.replaced import earlier_created
from distillguard.sharing.select import Candidate, Selection, candidates
from distillguard.store.duck import connect_utc


@dataclass(frozen=True)
class ExportOptions:
    producer: str = stix.DEFAULT_PRODUCER
    tlp: str = "amber"
    valid_days: int = 30  # indicators stay valid this long after last seen
    selection: Selection = field(default_factory=Selection)

    def __post_init__(self) -> None:
        if self.valid_days < 1:
            raise ConfigError("--valid-days must be at least 1")
        stix.tlp_marking(self.tlp)  # an unknown level raises with the valid ones
        stix.producer(self.producer)  # a blank name raises


@dataclass(frozen=True)
class ExportSummary:
    campaigns: int
    indicators: int
    objects: int
    path: Path
    producer: str  # the identity the bundle is created by, to bind with `share user`
    accounts_table: bool = True  # whether the lake's accounts were read (payment, sign-up)

    def line(self) -> str:
        return (
            f"share export: {self.campaigns} campaign(s), {self.indicators} indicator(s), "
            f"{self.objects} objects by {self.producer} -> {self.path}"
            + ("" if self.accounts_table else NO_ACCOUNTS)
        )


# Without the accounts table the strongest indicators (a payment instrument, a sign-up
# network) are not made: said, since the bundle looks complete without them.
NO_ACCOUNTS = (
    "; no accounts table (the run's lake is not known, or has none), so no payment or "
    "sign-up indicators: give --lake LAKE"
)


def _inputs(con: duckdb.DuckDBPyConnection, detect_out: Path, lake: Path | None) -> str | None:
    """Register the run's signals and results; returns the accounts table name, if any."""
    signals, results = detect_out / "signals", detect_out / "accounts.parquet"
    if not signals.is_dir() or not results.is_file():
        raise UserError(f"{detect_out} is not a detect output (no signals/ or accounts.parquet)")
    con.execute(
        f"CREATE VIEW signals AS SELECT * FROM read_parquet('{sql_path(signals)}/*.parquet')"
    )
    con.execute(f"CREATE VIEW results AS SELECT * FROM read_parquet('{sql_path(results)}')")
    con.execute(
        "CREATE VIEW clusters AS SELECT * FROM "
        f"read_parquet('{sql_path(detect_out / 'clusters.parquet')}')"
    )
    if lake is not None and not Lake(lake).is_one():  # else its indicators dropped, unsaid
        raise UserError(f"--lake {lake} is not a lake (no day partitions or accounts table)")
    accounts = _accounts_path(detect_out, lake)
    if not accounts.is_file():
        return None
    con.execute(f"CREATE VIEW lake_accounts AS SELECT * FROM read_parquet('{sql_path(accounts)}')")
    return "lake_accounts"


def _accounts_path(detect_out: Path, lake: Path | None) -> Path:
    return Lake(lake or lake_of_run(detect_out)).accounts_path


def _clusters(con: duckdb.DuckDBPyConnection) -> dict[str, FlaggedCluster]:
    rows = con.sql(
        "SELECT cluster_id, score, n_accounts, n_exchanges, capabilities FROM clusters "
        "WHERE flagged"
    ).fetchall()
    return {r[0]: FlaggedCluster(r[0], float(r[1]), int(r[2]), int(r[3]), str(r[4])) for r in rows}


@dataclass(frozen=True)
class BuiltBundle:
    """A bundle, with what the export says of it."""

    bundle: stix2.Bundle
    campaigns: int
    indicators: int
    accounts_table: bool  # whether the lake's accounts were read (payment, sign-up)


def build_bundle(
    detect_out: Path,
    key: CommunityKey,
    options: ExportOptions,
    lake: Path | None = None,
    earlier: dict[str, datetime] | None = None,
) -> BuiltBundle:
    """The bundle of a detect run; `earlier`: the `created` of the objects of the bundle
    it replaces."""
    con = connect_utc()
    try:
        accounts = _inputs(con, detect_out, lake)
        clusters = _clusters(con)
        found = candidates(con, holdings_sql("signals", accounts), "results", options.selection)
    finally:
        con.close()
    finished = read_run(detect_out).get("finished")
    as_of = datetime.fromisoformat(finished) if isinstance(finished, str) else None
    builder = BundleBuilder(key, options, as_of, earlier)
    by_cluster: dict[str, list[Candidate]] = {}
    for c in found:
        if c.cluster_id in clusters:
            by_cluster.setdefault(c.cluster_id, []).append(c)
    for cid in sorted(by_cluster):
        builder.add_cluster(clusters[cid], by_cluster[cid])
    bundle = stix2.Bundle(
        *builder.objects,
        id=f"bundle--{stix.stable_uuid(builder.identity.id, key.key_id, detect_out.name)}",
    )
    return BuiltBundle(bundle, len(by_cluster), builder.indicators, accounts is not None)


def export(
    detect_out: Path, key: CommunityKey, out: Path, options: ExportOptions, lake: Path | None = None
) -> ExportSummary:
    built = build_bundle(detect_out, key, options, lake, earlier_created(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    # in place, as a user's --out may be a pipe, /dev/stdout or a link, and keeps its mode
    out.write_text(stix.dumps(built.bundle))
    return ExportSummary(
        built.campaigns,
        built.indicators,
        len(built.bundle.objects),
        out,
        stix.producer(options.producer).id,
        built.accounts_table,
    )
