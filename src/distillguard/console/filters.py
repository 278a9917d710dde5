"""The queue's filter as a query string asks for it: each value checked, and each that
cannot be read left out of the filter and said, never silently ignored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from distillguard.console.casestore import STATUSES, QueueFilter

TIERS, KINDS, SORTS = ("flagged", "review", "peer"), ("account", "cluster"), ("score", "recent")


@dataclass(frozen=True)
class ReadFilter:
    """The queue filter a request asked for, and what of it could not be read (left out
    of the filter, and said: a mistyped date narrowed nothing without a word)."""

    filt: QueueFilter
    problems: tuple[str, ...]


def _date(name: str, text: str, problems: list[str]) -> str:
    try:
        return date.fromisoformat(text).isoformat() if text else ""
    except ValueError:
        problems.append(f"{name} {_shown(text)} is not a date (YYYY-MM-DD)")
        return ""


def _choice(name: str, text: str, valid: tuple[str, ...], problems: list[str]) -> str:
    if text and text not in valid:
        problems.append(f"{name} {_shown(text)} is not one of {', '.join(valid)}")
        return ""
    return text


def _page(text: str, problems: list[str]) -> int:
    if not text or (text.isascii() and text.isdigit() and int(text) >= 1):
        return int(text or "1")
    problems.append(f"page {_shown(text)} is not a page number (1, 2, ...)")
    return 1


def _shown(text: str) -> str:
    """The value as it was given, cut short: a query string can be long."""
    return repr(text if len(text) <= 40 else text[:40] + "...")


# The free-text filters, and the case column whose values each may take.
HELD = {"campaign": "cluster_id", "capability": "capability", "access_path": "access_path"}


def _held(name: str, text: str, known: Mapping[str, Sequence[str]], problems: list[str]) -> str:
    """A value no case of the run holds matches nothing: a typo ("telepathy", a cluster
    id cut short) would read as an empty queue, the answer."""
    values = known.get(HELD[name])
    if text and values is not None and text not in values:
        problems.append(f"{name} {_shown(text)} is in no case of this run")
        return ""
    return text


def read_filter(
    q: Mapping[str, str], known: Mapping[str, Sequence[str]] | None = None
) -> ReadFilter:
    """The queue filter a query string asks for; `known`: the values the run's cases hold
    (CaseStore.facets), against which campaign, capability and access path are checked."""
    problems: list[str] = []
    filt = QueueFilter(
        **{n: _held(n, q.get(n, ""), known or {}, problems) for n in HELD},
        tier=_choice("tier", q.get("tier", ""), TIERS, problems),
        kind=_choice("kind", q.get("kind", ""), KINDS, problems),
        status=_choice("status", q.get("status", ""), STATUSES, problems),
        since=_date("since", q.get("since", ""), problems),
        until=_date("until", q.get("until", ""), problems),
        sort=_choice("sort", q.get("sort", ""), SORTS, problems) or "score",
        members=_choice("members", q.get("members", ""), ("listed",), problems),
        page=_page(q.get("page", "1"), problems),
    )
    unknown = sorted(set(q) - set(FILTERS))
    if unknown:  # "from=" or "per_page=" gave the unfiltered queue, as if filtered
        problems.append(f"no filter {', '.join(map(_shown, unknown))}: valid {', '.join(FILTERS)}")
    if filt.since and filt.until and filt.since > filt.until:  # left out, as a bad date is
        problems.append(f"since {filt.since} is after until {filt.until}: no day is in both")
        filt = replace(filt, since="", until="")
    return ReadFilter(filt, tuple(problems))


FILTERS = (*HELD, "tier", "kind", "status", "since", "until", "sort", "members", "page")
