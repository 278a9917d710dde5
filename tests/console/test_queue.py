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
