"""STIX 2.1 objects for sharing: the producer, the declared extensions, TLP 2.0 markings.

Where STIX has no field (how many accounts and exchanges an indicator was seen with, which
key it was made under), the values sit in a property extension declared by an
`extension-definition`; the keyed fingerprints that patterns compare against are the
properties of a custom cyber-observable type, declared as a `new-sco` extension. Both
definitions have fixed ids, so every producer's bundles carry the same declarations.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import stix2

from distillguard.errors import ConfigError

SCO_TYPE = "x-distillguard-fingerprint"
# The producer a bundle names without --producer: every member's, so never one to bind.
DEFAULT_PRODUCER = "distillguard producer"
# The name `share match` gives its sightings without --producer: every member's too, and a
# sighting's id derives from it, so two members' sightings of one indicator share an id.
DEFAULT_PEER = "distillguard peer"
KILL_CHAIN = "distillguard-distillation"
_CREATED = "2026-02-01T00:00:00.000Z"
_SCHEMA = "https://github.com/distillguard/distillguard/blob/main/README.md#indicator-sharing"
PROJECT = stix2.Identity(
    id="identity--5b0c7a43-8f53-4c35-9d1e-5d1c0f6a2b71",
    created=_CREATED,
    modified=_CREATED,
    name="distillguard",
    description="The distillguard project, author of the distillguard STIX extensions.",
    identity_class="organization",
)
PROPERTIES = stix2.ExtensionDefinition(
    id="extension-definition--0c5f2a9e-6d3b-4e52-a0b1-7f0e2d9c4a61",
    created=_CREATED,
    modified=_CREATED,
    created_by_ref=PROJECT.id,
    name="distillguard sharing properties",
    description=(
        "Counts behind a distillation indicator or campaign (accounts_seen, exchanges_seen), "
        "the fingerprint kind and the id of the community key it was keyed with."
    ),
    schema=_SCHEMA,
    version="1.0.0",
    extension_types=["property-extension"],
)
FINGERPRINT_SCO = stix2.ExtensionDefinition(
    id="extension-definition--9a2d7e41-3c6b-4f08-8e5a-1b4c6d2f7e93",
    created=_CREATED,
    modified=_CREATED,
    created_by_ref=PROJECT.id,
    name=SCO_TYPE,
    description=(
        "A keyed fingerprint of API traffic: one property per kind (template_skeleton, "
        "template_prefix, template_suffix, template_band, system_prompt, client, "
        "exit_network, payment, signup_network), each the hex HMAC-SHA256 of the value "
        "under the sharing community's key."
    ),
    schema=_SCHEMA,
    version="1.0.0",
    extension_types=["new-sco"],
)
_TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
_TLP_IDS = {  # the OASIS TLP 2.0 marking definitions
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_LEVELS = tuple(_TLP_IDS)


def tlp_marking(level: str) -> stix2.MarkingDefinition:
    """The OASIS TLP 2.0 marking definition of a level (clear, green, amber, amber+strict, red)."""
    if level not in _TLP_IDS:
        raise ConfigError(f"unknown TLP level {level!r}; valid: {', '.join(TLP_LEVELS)}")
    return stix2.MarkingDefinition(
        id=_TLP_IDS[level],
        created="2022-10-01T00:00:00.000Z",
        name=f"TLP:{level.upper()}",
        extensions={_TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    )


def dumps(obj: stix2.Bundle) -> str:
    """A bundle as indented JSON text. Not stix2's `serialize(pretty=True)`: it orders each
    object's properties by a search that grows with the bundle's square (an export of 922
    objects took 50 s in it, 0.07 s this way); the properties keep the library's order."""
    return json.dumps(json.loads(obj.serialize()), indent=4)


def common_objects() -> list[dict[str, Any]]:
    """What every bundle carries whoever made it: the project's identity, its extension
    definitions and the TLP markings, as JSON objects (a TAXII server holds them from its
    start, so no member can push a different body under their ids first)."""
    fixed = [PROJECT, PROPERTIES, FINGERPRINT_SCO, *(tlp_marking(t) for t in TLP_LEVELS)]
    return [dict(json.loads(o.serialize())) for o in fixed]


def producer(name: str) -> stix2.Identity:
    """The producer's identity; its id is derived from its name, so it is stable per run."""
    if not name.strip():  # an identity named "" that peers cannot tell from another
        raise ConfigError("--producer needs a name (your organisation's, as peers know it)")
    return stix2.Identity(
        id=f"identity--{stable_uuid('producer', name)}",
        created=_CREATED,
        modified=_CREATED,
        name=name,
        description="A provider sharing distillation indicators with distillguard.",
        identity_class="organization",
    )


def stable_uuid(*parts: str) -> uuid.UUID:
    """A version-4 UUID drawn from a hash of `parts`: STIX wants v4 ids for domain objects,
    and a re-export of the same run should give the same ids."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def counts(**values: Any) -> dict[str, Any]:
    """A property-extension block of the sharing properties."""
    return {PROPERTIES.id: {"extension_type": "property-extension", **values}}


def extension_of(obj: dict[str, Any]) -> dict[str, Any]:
    """The sharing properties of a parsed object, or {} if it has none (or a block that is
    not an object: a peer's bundle is outside input)."""
    extensions = obj.get("extensions")
    block = extensions.get(PROPERTIES.id) if isinstance(extensions, dict) else None
    return dict(block) if isinstance(block, dict) else {}


def fingerprint_pattern(kind: str, keyed: str) -> str:
    return f"[{SCO_TYPE}:{kind} = '{keyed}']"
