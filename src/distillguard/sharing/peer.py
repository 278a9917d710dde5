"""A peer's bundle read back: its keyed indicators and the campaigns they indicate.

Only indicators in distillguard's own form are taken (one comparison of a keyed
fingerprint, made under the reader's key); other indicators in the bundle, for other
tools, are skipped and counted. Patterns are read with the OASIS pattern parser.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stix2patterns.v21.pattern import ParseException, Pattern

from distillguard.errors import UserError
from distillguard.sharing import stix
from distillguard.sharing.fingerprints import KIND_BY_NAME
from distillguard.sharing.keys import CommunityKey


@dataclass(frozen=True)
class PeerIndicator:
    indicator_id: str
    kind: str
    keyed: str
    confidence: float  # the producer's, in [0, 1]
    campaign: str  # the campaign it indicates ("" if none)
    valid_from: datetime
    valid_until: datetime | None


@dataclass(frozen=True)
class PeerBundle:
    indicators: tuple[PeerIndicator, ...]
    campaigns: dict[str, str]  # campaign id -> name
    skipped: int  # indicators not in distillguard's form
    other_key: int  # distillguard indicators made under another community key
    revoked: int = 0  # indicators whose latest version its producer revoked


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _comparison(pattern: str) -> tuple[str, str] | None:
    """(kind, keyed value) of a single-comparison fingerprint pattern, else None."""
    try:
        inspected = Pattern(pattern).inspect()
    except (ParseException, TypeError, ValueError):
        return None
    comparisons = inspected.comparisons.get(stix.SCO_TYPE, [])
    if len(inspected.comparisons) != 1 or len(comparisons) != 1:
        return None
    path, operator, value = comparisons[0]
    kind = path[0] if len(path) == 1 else None
    if operator != "=" or kind not in KIND_BY_NAME or not value.startswith("'"):
        return None
    return str(kind), value.strip("'")


def _indicates(objects: list[dict[str, Any]], campaigns: dict[str, str]) -> dict[str, str]:
    return {
        o["source_ref"]: o["target_ref"]
        for o in objects
        if o.get("type") == "relationship"
        and o.get("relationship_type") == "indicates"
        and isinstance(o.get("source_ref"), str)
        and o.get("target_ref") in campaigns
    }


def same_operator(campaigns: list[str]) -> str:
    """The one inference a match with a peer's indicators supports, worded alike in a
    match's summary, each matched indicator and detect's peer rule."""
    if not campaigns:
        return "the same operator as a campaign a peer has seen"
    return f"the same operator as the peer's campaign{'s' * (len(campaigns) > 1)} " + (
        ", ".join(campaigns)
    )


def bundle_objects(path: Path) -> list[dict[str, Any]]:
    """The objects of a bundle file, or a one-line error saying why it is not one."""
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"bundle not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"{path} is not a JSON STIX bundle: {exc}") from None
    # A bundle may hold no objects (STIX 2.1 makes the list optional), but any other JSON
    # object read as one matched nothing and a mistyped path passed for "no matches".
    if not isinstance(doc, dict) or doc.get("type") != "bundle":
        envelope = isinstance(doc, dict) and "more" in doc  # a TAXII page saved as it came
        hint = ": a TAXII envelope? 'share pull' writes a server's objects as a bundle"
        raise UserError(f'{path} is not a STIX bundle (no "type": "bundle"{hint * envelope})')
    if not isinstance(doc.get("objects", []), list):
        raise UserError(f"{path} is not a STIX bundle (its objects are not a list)")
    objects: list[Any] = doc.get("objects", [])
    loose = next((n for n, o in enumerate(objects) if not isinstance(o, dict)), None)
    if loose is not None:  # skipped, it was lost without a word; pushed, a server refuses it
        raise UserError(f"{path} is not a STIX bundle (object {loose + 1} is not a JSON object)")
    return objects


def _indicator(o: dict[str, Any], key: CommunityKey, campaign: str) -> PeerIndicator | None:
    found = _comparison(str(o.get("pattern", "")))
    if found is None:
        return None
    until = o.get("valid_until")
    confidence = float(o.get("confidence", 50))
    if not math.isfinite(confidence):  # "nan" read as a float, then a traceback downstream
        raise ValueError(f"confidence {o.get('confidence')!r}")
    return PeerIndicator(
        str(o["id"]),
        found[0],
        found[1],
        min(max(confidence, 0.0), 100.0) / 100,  # STIX: 0-100
        campaign,
        _time(str(o["valid_from"])),
        _time(str(until)) if until else None,
    )


def read_bundle(path: Path, key: CommunityKey) -> PeerBundle:
    objects = bundle_objects(path)
    campaigns = {
        o["id"]: str(o.get("name", ""))
        for o in objects
        if o.get("type") == "campaign" and isinstance(o.get("id"), str)
    }
    indicates = _indicates(objects, campaigns)
    indicators, skipped, other_key = [], 0, 0
    latest, revoked = _latest_versions(objects)
    for o in latest:
        made_with = stix.extension_of(o).get("key_id")
        try:
            parsed = _indicator(o, key, indicates.get(str(o.get("id")), ""))
        except (KeyError, ValueError, TypeError):
            parsed = None
        if parsed is None:
            skipped += 1
        elif made_with not in (None, key.key_id):  # none named: its pattern is checked
            other_key += 1  # when matched (a keyed value under another key matches nothing)
        else:
            indicators.append(parsed)
    if other_key and not indicators:
        raise UserError(
            f"{path}: its indicators were made under another community key than {key.key_id}"
        )
    return PeerBundle(tuple(indicators), campaigns, skipped, other_key, revoked)


def _latest_versions(objects: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Each indicator's latest version (a bundle, or a pull of every version, may hold
    several), and how many of those its producer revoked: STIX's way to take an
    indicator back, which was matched as if it stood."""
    latest: dict[str, dict[str, Any]] = {}
    for o in (o for o in objects if o.get("type") == "indicator"):
        held = latest.get(str(o.get("id")))
        # of two versions of one time, the revoked one: a page order cannot undo a retraction
        if held is None or (_modified(o), o.get("revoked") is True) > (
            _modified(held),
            held.get("revoked") is True,
        ):
            latest[str(o.get("id"))] = o
    standing = [o for o in latest.values() if o.get("revoked") is not True]
    return standing, len(latest) - len(standing)


def _modified(o: dict[str, Any]) -> datetime:
    try:
        return _time(str(o.get("modified") or o.get("created")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
