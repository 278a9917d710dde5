"""What a TAXII collection may hold: a pulled bundle must validate, and a refusal must
say what is wrong with the object."""

from __future__ import annotations

from typing import Any

import pytest

from distillguard.sharing.taxii.store import TaxiiStore
from distillguard.sharing.taxii.validity import malformed

UID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
T = "2026-11-01T00:00:00.000Z"
INDICATOR = {
    "type": "indicator",
    "id": f"indicator--{UID}",
    "created": T,
    "modified": T,
    "pattern": "[ipv4-addr:value = '192.0.2.1']",
    "pattern_type": "stix",
    "valid_from": T,
}
# (case, the object, why it is refused or None)
OBJECTS: list[tuple[str, Any, str | None]] = [
    ("an indicator", INDICATOR, None),
    ("null", None, "not a STIX object"),
    ("no type", {"id": f"indicator--{UID}"}, "no type"),
    ("no id", {"type": "indicator"}, "no id"),
    ("modified not a time", {**INDICATOR, "modified": "not a time"}, "a modified that is not"),
    ("month 13", {**INDICATOR, "created": "2026-13-01T00:00:00Z"}, "a created that is not"),
    ("a zone other than Z", {**INDICATOR, "created": "2026-11-01T00:00:00+01:00"}, "a created"),
    ("no created", {k: v for k, v in INDICATOR.items() if k != "created"}, "no created"),
    # held, a pull gave bundles the OASIS validator refuses (STIX 2.1: to the millisecond)
    ("created to the second", {**INDICATOR, "created": "2026-11-01T00:00:00Z"},
     "a created without milliseconds"),
    ("modified to a tenth", {**INDICATOR, "modified": "2026-11-01T00:00:00.1Z"},
     "a modified without milliseconds"),
    ("microseconds", {**INDICATOR, "modified": "2026-11-01T00:00:00.123456Z"}, None),
    ("a marking without modified",
     {"type": "marking-definition", "id": f"marking-definition--{UID}", "created": T}, None),
    ("an observable without times", {"type": "ipv4-addr", "id": f"ipv4-addr--{UID}"}, None),
    # stored, it was served to every member and refused by their validators
    ("an indicator without its pattern",
     {k: v for k, v in INDICATOR.items() if k not in ("pattern", "valid_from")},
     "no pattern, valid_from (STIX requires them of an indicator)"),
    ("a sighting of nothing",
     {"type": "sighting", "id": f"sighting--{UID}", "created": T, "modified": T},
     "no sighting_of_ref (STIX requires it of a sighting)"),
    ("a custom object: nothing required", {"type": "x-note", "id": f"x-note--{UID}"}, None),
]  # fmt: skip


@pytest.mark.parametrize(("case", "obj", "why"), OBJECTS, ids=[o[0] for o in OBJECTS])
def test_what_a_collection_refuses_and_why(case: str, obj: Any, why: str | None) -> None:
    said = malformed(obj)
    assert (said is None) if why is None else (said is not None and said.startswith(why)), case


def test_a_null_object_is_a_failure_not_a_success() -> None:
    """null was counted a duplicate of nothing held (None == None): success, and nothing
    stored."""
    store = TaxiiStore()
    collection = store.add_collection("c")
    result = store.add(collection, [None, INDICATOR])
    assert (result.added, result.duplicates, result.failed) == (
        1,
        0,
        [("", "", "not a STIX object")],
    )


def test_a_refused_version_is_named_in_the_status() -> None:
    """TAXII 2.1 status-details need the version as well as the id: only the id was said."""
    store = TaxiiStore()
    collection = store.add_collection("c")
    late = {**INDICATOR, "created": "2026-11-01T00:00:00Z", "modified": "2026-11-02T00:00:00Z"}
    assert store.add(collection, [late]).failed == [
        (
            late["id"],
            "2026-11-02T00:00:00Z",
            "a created without milliseconds (YYYY-MM-DDTHH:MM:SS.sssZ)",
        )
    ]
