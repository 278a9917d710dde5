"""Whether an object is one a TAXII collection may hold: a STIX id of its type, and STIX
timestamps where STIX asks for them, so that what a peer pulls validates."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
IDENTITY = re.compile("identity--" + _UUID.pattern, re.IGNORECASE)
# STIX domain and relationship objects carry created and modified; a marking definition
# carries created; cyber observables carry neither.
_VERSIONED = frozenset((
    "attack-pattern", "campaign", "course-of-action", "extension-definition", "grouping",
    "identity", "incident", "indicator", "infrastructure", "intrusion-set",
    "language-content", "location", "malware", "malware-analysis", "note", "observed-data",
    "opinion", "report", "threat-actor", "tool", "vulnerability", "relationship", "sighting",
))  # fmt: skip
# The properties STIX 2.1 requires of each type beyond the common ones (its section 4 and
# 5): an indicator without a pattern would be stored, served and refused by every
# validator and client downstream.
_REQUIRED = {
    "attack-pattern": ("name",),
    "campaign": ("name",),
    "course-of-action": ("name",),
    "grouping": ("context", "object_refs"),
    "identity": ("name",),
    "indicator": ("pattern", "pattern_type", "valid_from"),
    "infrastructure": ("name",),
    "intrusion-set": ("name",),
    "malware": ("is_family",),
    "malware-analysis": ("product",),
    "note": ("content", "object_refs"),
    "observed-data": ("first_observed", "last_observed", "number_observed"),
    "opinion": ("opinion", "object_refs"),
    "report": ("name", "published", "object_refs"),
    "threat-actor": ("name",),
    "tool": ("name",),
    "vulnerability": ("name",),
    "relationship": ("relationship_type", "source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
}
_STIX_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")


def malformed(obj: Any) -> str | None:
    """Why an object is not one a collection may hold, or None."""
    if not isinstance(obj, dict):
        return "not a STIX object"
    if not obj.get("type") or not obj.get("id"):
        return "no type" if not obj.get("type") else "no id"
    return _bad_id(obj) or _bad_times(obj) or _missing(obj)


def _missing(obj: dict[str, Any]) -> str | None:
    kind = str(obj["type"])
    absent = [name for name in _REQUIRED.get(kind, ()) if obj.get(name) is None]
    if not absent:
        return None
    article = "an" if kind[0] in "aeiou" else "a"
    pronoun = "them" if len(absent) > 1 else "it"
    return f"no {', '.join(absent)} (STIX requires {pronoun} of {article} {kind})"


def _bad_id(obj: dict[str, Any]) -> str | None:
    kind, _, uid = str(obj["id"]).partition("--")
    if not _UUID.fullmatch(uid):  # uuid.UUID would take braces, a urn: or no hyphens
        return "an id that is not TYPE--UUID"
    if str(obj["id"]) != str(obj["id"]).lower() or str(obj["type"]) != str(obj["type"]).lower():
        return "an id or type in capitals (STIX writes them in lower case)"
    if kind != obj["type"]:
        return "an id of another type"
    creator = obj.get("created_by_ref")
    if creator is not None and not (isinstance(creator, str) and IDENTITY.fullmatch(creator)):
        return "a created_by_ref that is not identity--UUID"
    return None


def _bad_times(obj: dict[str, Any]) -> str | None:
    needed: tuple[str, ...] = ("created", "modified") if obj["type"] in _VERSIONED else ()
    needed = ("created",) if obj["type"] == "marking-definition" else needed
    for name in ("created", "modified"):
        value = obj.get(name)
        if value is None and name in needed:
            return f"no {name} (a {obj['type']} needs one)"
        if value is not None and not _is_stix_time(value):
            return f"a {name} that is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z)"
        if value is not None and not _MILLISECONDS.search(str(value)):
            # STIX 2.1 3.2: created and modified are precise to the millisecond; held
            # without, a pull gave bundles that the OASIS validator refuses
            return f"a {name} without milliseconds (YYYY-MM-DDTHH:MM:SS.sssZ)"
    return None


_MILLISECONDS = re.compile(r"\.\d{3,}Z$")


def _is_stix_time(value: Any) -> bool:
    if not (isinstance(value, str) and _STIX_TIME.fullmatch(value)):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:  # a month 13, a 25th hour
        return False
    return True
