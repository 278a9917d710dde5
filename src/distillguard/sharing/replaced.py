"""The bundle an export replaces: what it carries on, and what it must not overwrite.

`share export --out FILE` writes a whole new bundle there. Where FILE is an earlier export,
each object keeps the `created` it had (see `earlier_created`). Where it is anything else,
the export refuses: `--out detect/run.json` or `--out lake/accounts/accounts.parquet`
replaced the very input the next run reads, with no word.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from distillguard.errors import UserError
from distillguard.sharing.peer import bundle_objects


def earlier_created(out: Path) -> dict[str, datetime]:
    """Each object's `created` in the bundle at `out`, which an export there replaces: an
    id keeps its first `created` even once the lake no longer holds the traffic that set
    it (a retention window's end), and a relationship keeps its own whatever its ends'
    became. Nothing where there is no file there (or an empty one, or a bundle an
    interrupted export cut short); a one-line error where the file is not a bundle."""
    if not out.is_file() or out.stat().st_size == 0:
        return {}
    try:
        objects = bundle_objects(out)
    except UserError:
        if _begins_a_bundle(out):
            return {}
        raise UserError(
            f"--out {out} is there and is not a STIX bundle: an export replaces the file "
            "whole, so give another path, or remove it first"
        ) from None
    times = ((o.get("id"), _zoned(o.get("created"))) for o in objects)
    return {str(i): t for i, t in times if isinstance(i, str) and t is not None}


# How a bundle begins, as stix.dumps writes it or compact: what an export stopped half way
# (killed, the disk full) leaves, and what the next export may replace.
_BUNDLE_START = re.compile(rb'\A\s*\{\s*"type"\s*:\s*"bundle"')


def _begins_a_bundle(out: Path) -> bool:
    with out.open("rb") as handle:
        return bool(_BUNDLE_START.match(handle.read(64)))


def _zoned(value: Any) -> datetime | None:
    """A STIX timestamp; None for one edited into something else (no zone, no time)."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        # in UTC now: year 1 at +05:00 parses, then overflows when written as UTC
        return parsed.astimezone(UTC) if parsed is not None and parsed.tzinfo else None
    except (ValueError, OverflowError):
        return None
