"""`share export`: a detect run's flagged clusters as a STIX 2.1 bundle of keyed indicators.

Per flagged cluster: a `campaign`; an `indicator` per shared fingerprint (see `select`),
its pattern over the keyed value, with confidence, validity, kill-chain phase and counts;
an `infrastructure` for the networks the operator ran through; `relationship`s between
them. Everything carries a TLP 2.0 marking and the producer's identity. Raw values, account
ids and cluster ids never enter an object: only keyed values and counts do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import stix2

from distillguard.detect.case_files import lake_of_run, read_run
from distillguard.errors import ConfigError, UserError
from distillguard.ingest.lake import Lake, sql_path
from distillguard.sharing import stix
from distillguard.sharing.fingerprints import KIND_BY_NAME, holdings_sql
from distillguard.sharing.keys import CommunityKey
from distillguard.sharing.replaced import earlier_created
from distillguard.sharing.select import Candidate, Selection, candidates
from distillguard.store.duck import connect_utc

PHASES = {"payment": "account-setup", "signup_network": "account-setup", "client": "access"}
PHASES.update(exit_network="access")


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


@dataclass(frozen=True)
class _Cluster:
    cluster_id: str
    score: float
    accounts: int
    exchanges: int
    capabilities: str


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


def _clusters(con: duckdb.DuckDBPyConnection) -> dict[str, _Cluster]:
    rows = con.sql(
        "SELECT cluster_id, score, n_accounts, n_exchanges, capabilities FROM clusters "
        "WHERE flagged"
    ).fetchall()
    return {r[0]: _Cluster(r[0], float(r[1]), int(r[2]), int(r[3]), str(r[4])) for r in rows}


def _seen(found: list[Candidate], as_of: datetime | None) -> tuple[str, str]:
    """(created, modified) of an object with a stable id: when its evidence was first seen,
    and when the detect run it comes from finished (its last seen, if later). The same
    run exports the same versions; a later run's objects are later versions, whatever
    changed in their bodies (a new score, fewer exchanges in the window)."""
    last = max(c.last_seen for c in found)
    return _stamp(min(c.first_seen for c in found)), _stamp(max(last, as_of or last))


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _stamp(value: datetime) -> str:
    """STIX time in UTC, to the millisecond (the Z must not be put on a local time)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


class _Builder:
    """Accumulates one bundle's objects under one producer, key and marking."""

    def __init__(
        self,
        key: CommunityKey,
        options: ExportOptions,
        as_of: datetime | None = None,
        earlier: dict[str, datetime] | None = None,
    ) -> None:
        self.key, self.options, self.as_of = key, options, as_of
        self.earlier = earlier or {}  # id -> created, of the bundle this export replaces
        self.identity = stix.producer(options.producer)
        self.marking = stix.tlp_marking(options.tlp)
        self.objects: list[Any] = [
            stix.PROJECT,
            stix.PROPERTIES,
            stix.FINGERPRINT_SCO,
            self.marking,
            self.identity,
        ]
        self.indicators = 0

    def _common(self, *parts: str) -> dict[str, Any]:
        return {
            "id_suffix": str(stix.stable_uuid(self.identity.id, self.key.key_id, *parts)),
            "created_by_ref": self.identity.id,
            "object_marking_refs": [self.marking.id],
        }

    def _new(self, cls: Any, *parts: str, seen: tuple[Any, Any], **props: Any) -> Any:
        """An object whose id is stable from export to export, so its `created` must be
        too (STIX 2.1 3.6: one object, one created; a re-export gave every object a new
        one): it is when its evidence was first seen, `modified` when last seen."""
        common = self._common(*parts)
        suffix = common.pop("id_suffix")
        created, modified = seen
        first = self.earlier.get(f"{cls._type}--{suffix}")
        if first is not None and first <= _time(modified):  # once created, always so
            created = _stamp(first)
        obj = cls(id=f"{cls._type}--{suffix}", created=created, modified=modified,
                  **common, **props)  # fmt: skip
        self.objects.append(obj)
        return obj

    def relate(self, source: Any, kind: str, target: Any) -> None:
        self._new(
            stix2.Relationship,
            "rel",
            source.id,
            kind,
            target.id,
            seen=(max(source.created, target.created), max(source.modified, target.modified)),
            relationship_type=kind,
            source_ref=source.id,
            target_ref=target.id,
        )

    def campaign(self, cluster: _Cluster, found: list[Candidate]) -> Any:
        tag = self.key.keyed("campaign", cluster.cluster_id)[:12]
        return self._new(
            stix2.Campaign,
            "campaign",
            cluster.cluster_id,
            seen=_seen(found, self.as_of),
            name=f"distillation campaign {tag}",
            description=(
                f"A cluster of {cluster.accounts} accounts harvesting model outputs "
                f"({cluster.exchanges} exchanges; capabilities: {cluster.capabilities})."
            ),
            objective="harvest model outputs to train another model (distillation)",
            first_seen=_stamp(min(c.first_seen for c in found)),
            last_seen=_stamp(max(c.last_seen for c in found)),
            confidence=round(100 * cluster.score),
            extensions=stix.counts(
                accounts_seen=cluster.accounts, exchanges_seen=cluster.exchanges
            ),
        )

    def indicator(self, cluster: _Cluster, c: Candidate) -> Any:
        kind = KIND_BY_NAME[c.kind]
        keyed = self.key.keyed(c.kind, c.raw)
        self.indicators += 1
        return self._new(
            stix2.Indicator,
            "indicator",
            cluster.cluster_id,
            c.kind,
            keyed,
            seen=_seen([c], self.as_of),
            name=f"{kind.title} reused by a distillation campaign",
            description=(
                f"Keyed {kind.title}: seen with {c.accounts} flagged accounts and "
                f"{c.exchanges} exchanges; {c.purity:.0%} of local holders were flagged."
            ),
            indicator_types=["malicious-activity"],
            pattern=stix.fingerprint_pattern(c.kind, keyed),
            pattern_type="stix",
            valid_from=_stamp(c.first_seen),
            valid_until=_stamp(c.last_seen + timedelta(days=self.options.valid_days)),
            confidence=round(100 * cluster.score * c.purity),
            kill_chain_phases=[
                {"kill_chain_name": stix.KILL_CHAIN, "phase_name": PHASES.get(c.kind, "harvest")}
            ],
            extensions=stix.counts(
                fingerprint_kind=c.kind,
                key_id=self.key.key_id,
                accounts_seen=c.accounts,
                exchanges_seen=c.exchanges,
            ),
        )

    def infrastructure(self, cluster: _Cluster, networks: list[Candidate]) -> Any:
        return self._new(
            stix2.Infrastructure,
            "infrastructure",
            cluster.cluster_id,
            seen=_seen(networks, self.as_of),
            name="proxy and sign-up networks of a distillation campaign",
            description=(
                f"{len(networks)} networks the campaign signed up from or sent traffic "
                "through, shared as keyed fingerprints."
            ),
            infrastructure_types=["anonymization"],
            first_seen=_stamp(min(c.first_seen for c in networks)),
            last_seen=_stamp(max(c.last_seen for c in networks)),
        )

    def add_cluster(self, cluster: _Cluster, found: list[Candidate]) -> None:
        campaign = self.campaign(cluster, found)
        networks = [c for c in found if KIND_BY_NAME[c.kind].network]
        infra = self.infrastructure(cluster, networks) if networks else None
        if infra is not None:
            self.relate(campaign, "uses", infra)
        for c in found:
            indicator = self.indicator(cluster, c)
            self.relate(indicator, "indicates", campaign)
            if infra is not None and KIND_BY_NAME[c.kind].network:
                self.relate(indicator, "indicates", infra)


def build_bundle(
    detect_out: Path,
    key: CommunityKey,
    options: ExportOptions,
    lake: Path | None = None,
    earlier: dict[str, datetime] | None = None,
) -> tuple[stix2.Bundle, int, int]:
    """The bundle, with its number of campaigns and indicators; `earlier`: the `created`
    of the objects of the bundle it replaces."""
    con = connect_utc()
    try:
        accounts = _inputs(con, detect_out, lake)
        clusters = _clusters(con)
        found = candidates(con, holdings_sql("signals", accounts), "results", options.selection)
    finally:
        con.close()
    finished = read_run(detect_out).get("finished")
    as_of = datetime.fromisoformat(finished) if isinstance(finished, str) else None
    builder = _Builder(key, options, as_of, earlier)
    by_cluster: dict[str, list[Candidate]] = {}
    for c in found:
        by_cluster.setdefault(c.cluster_id, []).append(c)
    for cid in sorted(by_cluster):
        if cid in clusters:
            builder.add_cluster(clusters[cid], by_cluster[cid])
    bundle = stix2.Bundle(
        *builder.objects,
        id=f"bundle--{stix.stable_uuid(builder.identity.id, key.key_id, detect_out.name)}",
    )
    return bundle, len(by_cluster), builder.indicators


def export(
    detect_out: Path, key: CommunityKey, out: Path, options: ExportOptions, lake: Path | None = None
) -> ExportSummary:
    earlier = earlier_created(out)
    bundle, campaigns, indicators = build_bundle(detect_out, key, options, lake, earlier)
    out.parent.mkdir(parents=True, exist_ok=True)
    # in place, as a user's --out may be a pipe, /dev/stdout or a link, and keeps its mode
    out.write_text(stix.dumps(bundle))
    producer = stix.producer(options.producer).id
    known = _accounts_path(detect_out, lake).is_file()
    return ExportSummary(campaigns, indicators, len(bundle.objects), out, producer, known)
