"""The STIX objects of one bundle: per flagged cluster a campaign, its keyed indicators,
the networks it ran through as infrastructure, and the relationships between them, all
under one producer, key and marking, with ids stable from export to export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import stix2

from distillguard.sharing import stix
from distillguard.sharing.fingerprints import KIND_BY_NAME
from distillguard.sharing.keys import CommunityKey
from distillguard.sharing.select import Candidate

if TYPE_CHECKING:  # export.py builds with this module
    from distillguard.sharing.export import ExportOptions

PHASES = {"payment": "account-setup", "signup_network": "account-setup", "client": "access"}
PHASES.update(exit_network="access")


@dataclass(frozen=True)
class FlaggedCluster:
    """A flagged cluster as the run's clusters table gives it."""

    cluster_id: str
    score: float
    accounts: int
    exchanges: int
    capabilities: str


def _seen(found: list[Candidate], as_of: datetime | None) -> tuple[str, str]:
    """(created, modified) of an object with a stable id: when its evidence was first seen,
    and when the detect run it comes from finished (its last seen, if later). The same
    run exports the same versions; a later run's objects are later versions, whatever
    changed in their bodies (a new score, fewer exchanges in the window)."""
    last = max(c.last_seen for c in found)
    return stix_time(min(c.first_seen for c in found)), stix_time(max(last, as_of or last))


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def stix_time(value: datetime) -> str:
    """STIX time in UTC, to the millisecond (the Z must not be put on a local time)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


class BundleBuilder:
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
            created = stix_time(first)
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

    def campaign(self, cluster: FlaggedCluster, found: list[Candidate]) -> Any:
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
            first_seen=stix_time(min(c.first_seen for c in found)),
            last_seen=stix_time(max(c.last_seen for c in found)),
            confidence=round(100 * cluster.score),
            extensions=stix.counts(
                accounts_seen=cluster.accounts, exchanges_seen=cluster.exchanges
            ),
        )

    def indicator(self, cluster: FlaggedCluster, c: Candidate) -> Any:
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
            valid_from=stix_time(c.first_seen),
            valid_until=stix_time(c.last_seen + timedelta(days=self.options.valid_days)),
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

    def infrastructure(self, cluster: FlaggedCluster, networks: list[Candidate]) -> Any:
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
            first_seen=stix_time(min(c.first_seen for c in networks)),
            last_seen=stix_time(max(c.last_seen for c in networks)),
        )

    def add_cluster(self, cluster: FlaggedCluster, found: list[Candidate]) -> None:
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
