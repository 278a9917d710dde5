"""The queue: members of flagged clusters are read under their cluster unless asked for."""

from __future__ import annotations

from dataclasses import replace

import pytest

from distillguard.console.casestore import CaseStore, QueueFilter
from distillguard.detect.summary import DetectSummary
from tests.console.conftest import Served

# (filter, whether the members of flagged clusters are listed)
CASES = [
    (QueueFilter(), False),
    (QueueFilter(sort="recent"), False),
    (QueueFilter(since="2020-01-01"), True),  # a new member of an old campaign, by its date
    (QueueFilter(members="listed"), True),
    (QueueFilter(kind="account"), True),
    (QueueFilter(status="new"), True),
    (QueueFilter(tier="flagged"), True),
]


@pytest.fixture(scope="module")
def cases(tiny_detect: DetectSummary, tmp_path_factory: pytest.TempPathFactory) -> CaseStore:
    store = CaseStore(tmp_path_factory.mktemp("cases") / "cases.duckdb")
    store.load(tiny_detect.out)
    return store


def _members(tiny_detect: DetectSummary) -> set[str]:
    flagged = {c.cluster_id for c in tiny_detect.clusters if c.flagged}
    return {a.account_id for a in tiny_detect.accounts if a.cluster_id in flagged}


def _shown(cases: CaseStore, filt: QueueFilter) -> list[dict[str, object]]:
    """Every row of every page of the filter's queue."""
    first = cases.queue(filt)
    rest = [cases.queue(replace(filt, page=n)).rows for n in range(2, first.pages + 1)]
    return [*first.rows, *(row for rows in rest for row in rows)]


@pytest.mark.parametrize(("filt", "listed"), CASES, ids=[repr(c[0]) for c in CASES])
def test_members_are_folded_in_the_plain_queue_only(
    cases: CaseStore, tiny_detect: DetectSummary, filt: QueueFilter, listed: bool
) -> None:
    members = _members(tiny_detect)
    assert members  # else nothing is tested
    rows = _shown(cases, filt)
    shown = {str(r["id"]) for r in rows if r["kind"] == "account"}
    assert (members <= shown) is listed and (not members & shown) is (not listed)
    assert cases.queue(filt).folded == (0 if listed else len(members))
    clusters = {str(r["id"]) for r in rows if r["kind"] == "cluster"}
    flagged = {c.cluster_id for c in tiny_detect.clusters if c.flagged}
    assert clusters == (set() if filt.kind == "account" else flagged)


def test_the_queue_page_says_what_is_folded_and_links_to_the_list(
    served: Served, tiny_detect: DetectSummary
) -> None:
    client = served.login("alice")
    members = _members(tiny_detect)
    plain = client.get("/").text
    assert f"{len(members)} member account(s) of flagged clusters" in plain
    assert not any(f">{m}</a>" in plain for m in members)
    assert "members=listed" in plain
    listed = client.get("/", params={"members": "listed"}).text
    assert any(f">{m}</a>" in listed for m in members) and 'id="folded"' not in listed
    assert "members=listed" in listed.split('class="pager"')[1]  # the next page keeps it
    api = client.get("/api/queue").json()
    assert api["folded"] == len(members)


# (case, changes as (key, minute), own key, (keys shown in order, how many left out))
CHANGES = [
    (
        "few: all shown",
        [("cluster:c", 0), ("account:a", 1)],
        "cluster:c",
        (["cluster:c", "account:a"], 0),
    ),
    (
        "many members: the case's own kept, the members' last 50",
        [("cluster:c", 0)] + [(f"account:a{i}", i + 1) for i in range(60)] + [("cluster:c", 99)],
        "cluster:c",
        (["cluster:c"] + [f"account:a{i}" for i in range(10, 60)] + ["cluster:c"], 10),
    ),
]


@pytest.mark.parametrize("case", CHANGES, ids=[c[0] for c in CHANGES])
def test_a_case_page_shows_its_own_changes_and_says_what_it_leaves_out(
    case: tuple[str, list[tuple[str, int]], str, tuple[list[str], int]],
) -> None:
    """The page showed the last 50 changes whatever they were, without a word: a
    flagged cluster's members pushed its own verdict out."""
    from datetime import UTC, datetime, timedelta

    from distillguard.console.app import _shown_changes
    from distillguard.verdicts.store import Change

    _, written, own, (keys, hidden) = case
    start = datetime(2026, 2, 2, tzinfo=UTC)
    changes = [Change("clear", k, start + timedelta(minutes=m)) for k, m in written]
    shown, left_out = _shown_changes(changes, own)
    assert ([c.key for c in shown], left_out) == (keys, hidden)
