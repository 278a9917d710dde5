"""One case's share of a run's STIX bundle: a cluster's campaign and what points at it.

The console exports a case as STIX so an analyst can hand one campaign to a peer. It is cut
out of the run's bundle, not built apart, so it carries the same keyed indicators and ids
that `share export` gives: a peer who has both sees one campaign, not two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import stix2

from distillguard.sharing import stix
from distillguard.sharing.export import ExportOptions, build_bundle
from distillguard.sharing.keys import CommunityKey

# Objects every bundle needs whatever it holds: the extension definitions, the marking
# and the producer.
_SHARED_TYPES = {"extension-definition", "marking-definition", "identity"}


def campaign_id(cluster_id: str, key: CommunityKey, options: ExportOptions) -> str:
    """The id `share export` gives the campaign of `cluster_id`."""
    producer = stix.producer(options.producer).id
    return f"campaign--{stix.stable_uuid(producer, key.key_id, 'campaign', cluster_id)}"


def _linked(objects: list[Any], root: str) -> set[str]:
    """Ids of the objects a relationship joins to `root`, directly or through one other
    (an indicator of the campaign's infrastructure), and those relationships."""
    keep = {root}
    for _ in range(2):
        for o in objects:
            if o.type == "relationship" and (o.source_ref in keep or o.target_ref in keep):
                keep |= {o.id, o.source_ref, o.target_ref}
    return keep


def case_bundle(
    detect_out: Path,
    key: CommunityKey,
    cluster_id: str,
    options: ExportOptions | None = None,
    lake: Path | None = None,
) -> stix2.Bundle | None:
    """The bundle of one cluster's campaign; None when the run shares nothing for it."""
    options = options or ExportOptions()
    bundle = build_bundle(detect_out, key, options, lake).bundle
    objects = list(bundle.objects)
    root = campaign_id(cluster_id, key, options)
    if not any(o.id == root for o in objects):
        return None
    keep = _linked(objects, root)
    chosen = [o for o in objects if o.type in _SHARED_TYPES or o.id in keep]
    return stix2.Bundle(*chosen, id=f"bundle--{stix.stable_uuid(root, key.key_id)}")
