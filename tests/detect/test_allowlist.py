"""The allowlist: a dismissal holds for the same evidence, until it expires, and no further."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from distillguard.detect.allowlist import (
    AllowEntry,
    append_allowlist,
    apply_allowlist,
    evidence_codes,
    load_allowlist,
)
from distillguard.detect.results import AccountResult, ClusterResult
from distillguard.detect.run import detect
from distillguard.detect.summary import DetectSummary
from distillguard.errors import UserError
from distillguard.findings.collect import FindingsOptions
from distillguard.findings.lifecycle import FINDINGS_FILE
from distillguard.scoring.evidence import Evidence

AT = datetime(2026, 3, 1, tzinfo=UTC)


def _evidence(*codes: str) -> tuple[Evidence, ...]:
    return tuple(Evidence(c, c, {"n": 1}, "inferred", 0.9) for c in codes)


def _account(codes: tuple[str, ...], cluster: str | None = None) -> AccountResult:
    return AccountResult("a1", 0.95, True, "account", cluster, AT, _evidence(*codes))


def _entry(codes: set[str], expires: datetime | None = None) -> AllowEntry:
    return AllowEntry("a1", "a family sharing a card", frozenset(codes), "alice", AT, expires)


CASES = [
    # (name, account's evidence, cluster evidence, dismissed codes, expiry, still flagged)
    ("same evidence", ("cot",), (), {"cot"}, None, False),
    ("fewer rules than dismissed", ("cot",), (), {"cot", "volume"}, None, False),
    ("new evidence flags again", ("cot", "volume"), (), {"cot"}, None, True),
    ("expired entry", ("cot",), (), {"cot"}, AT - timedelta(days=1), True),
    ("live entry with expiry", ("cot",), (), {"cot"}, AT + timedelta(days=1), False),
    ("cluster evidence counts", ("cot",), ("shared_payment",), {"cot"}, None, True),
    (
        "cluster evidence dismissed",
        ("cot",),
        ("shared_payment",),
        {"cot", "cluster.shared_payment"},
        None,
        False,
    ),
]


@pytest.mark.parametrize(
    ("name", "own", "linked", "dismissed", "expires", "flagged"), CASES, ids=[c[0] for c in CASES]
)
def test_allowlist_rules(
    *,
    name: str,
    own: tuple[str, ...],
    linked: tuple[str, ...],
    dismissed: set[str],
    expires: datetime | None,
    flagged: bool,
) -> None:
    cluster = ClusterResult("c1", ("a1",), 0.9, True, AT, _evidence(*linked)) if linked else None
    account = _account(own, "c1" if cluster else None)
    allowed = apply_allowlist(
        [account], [cluster] if cluster else [], [_entry(dismissed, expires)], at=AT
    )
    kept, lifted = allowed.accounts, allowed.suppressed
    assert kept[0].flagged is flagged
    assert len(lifted) == (0 if flagged else 1)
    if not flagged:
        assert kept[0].first_flagged_at is None and not kept[0].review
        assert kept[0].cluster_id is None
        assert all("a1" not in c.accounts for c in allowed.clusters)


def test_entries_round_trip_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "allowlist.jsonl"
    entry = _entry({"cot", "volume"}, AT + timedelta(days=7))
    append_allowlist(path, entry)
    append_allowlist(path, _entry({"cot"}))
    assert load_allowlist(path) == [entry, _entry({"cot"})]
    with pytest.raises(UserError, match="no allowlist at"):  # a typo must not flag again
        load_allowlist(tmp_path / "none.jsonl")


GOOD = '"account_id": "a1", "created": "2026-02-01T00:00:00+00:00"'


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"account_id": "a1"}', "is not an entry"),
        ('["a1"]', "not a JSON object"),
        ("{" + GOOD + ', "codes": "cot"}', "codes must be a list"),  # not c, o, t
        ("{" + GOOD + ', "codes": [1]}', "codes must be a list"),
        ('{"account_id": "a1", "codes": [], "created": "2026-02-01T00:00:00"}', "no zone"),
        ("{" + GOOD + ', "codes": ["cot"], "expires": "2026-12-31"}', "no zone"),
    ],
)
def test_a_bad_line_is_one_error_naming_it(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "allowlist.jsonl"
    path.write_text("{" + GOOD + ', "codes": []}\n' + line + "\n")
    with pytest.raises(UserError, match="line 2") as raised:
        load_allowlist(path)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_any_live_entry_that_covers_the_evidence_suppresses() -> None:
    broad, narrow = _entry({"cot", "volume"}), _entry({"volume"})
    allowed = apply_allowlist([_account(("cot", "volume"))], [], [broad, narrow], at=AT)
    assert not allowed.accounts[0].flagged
    assert allowed.suppressed[0].entry == broad


def test_a_dismissed_member_leaves_its_cluster() -> None:
    cluster = ClusterResult("c1", ("a1", "a2"), 0.9, True, AT, _evidence("shared_payment"))
    member = _account(("cot",), "c1")
    allowed = apply_allowlist([member], [cluster], [_entry({"cot", "cluster.shared_payment"})])
    assert allowed.clusters[0].accounts == ("a2",)


def test_a_dismissed_accounts_finding_closes_as_suppressed_in_the_next_run(
    tiny_lake: Path, tiny_detect: DetectSummary, tmp_path: Path
) -> None:
    """detect hands the allowlist's lifts to the findings: the next run closes a dismissed
    account's finding as Suppressed, saying who dismissed it and why."""
    solo = next(a for a in tiny_detect.accounts if a.flagged and a.cluster_id is None)
    entry = AllowEntry(
        solo.account_id, "CI pipeline", evidence_codes(solo, None), "alice", datetime.now(UTC)
    )
    options = FindingsOptions(previous=tiny_detect.out)
    detect([tiny_lake], tmp_path / "next", allowlist=[entry], findings_options=options)
    written = (tmp_path / "next" / FINDINGS_FILE).read_bytes()
    rows = [orjson.loads(line) for line in written.splitlines()]
    [closed] = [r for r in rows if r["activity_id"] == 3]
    assert closed["resources"] == [{"type": "Account", "uid": solo.account_id}]
    assert (closed["status_id"], closed["status_detail"]) == (3, "dismissed by alice: CI pipeline")


def test_a_withdrawal_ends_the_accounts_earlier_dismissals_only(tmp_path: Path) -> None:
    path = tmp_path / "allowlist.jsonl"
    at = datetime(2026, 2, 1, tzinfo=UTC)
    for entry in (
        AllowEntry("a1", "team", frozenset({"cot"}), "alice", at),
        AllowEntry("a2", "team", frozenset({"cot"}), "alice", at),
        AllowEntry("a1", "confirmed", frozenset(), "bob", at, withdrawn=True),
        AllowEntry("a2", "again", frozenset({"volume"}), "alice", at),
    ):
        append_allowlist(path, entry)
    kept = load_allowlist(path)
    assert [(e.account_id, e.reason) for e in kept] == [("a2", "team"), ("a2", "again")]
    append_allowlist(path, AllowEntry("a1", "after all", frozenset({"cot"}), "alice", at))
    assert [e.account_id for e in load_allowlist(path)] == ["a2", "a2", "a1"]
    assert "withdrawn" not in path.read_text().splitlines()[0]  # older readers' format
