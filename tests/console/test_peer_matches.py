"""`share match` feeds the case store: a peer's matches join the queue with their evidence.

The bundle is the tiny run's own export matched back against its own lake (a peer with the
same operator). Its indicators name the accounts detect flagged and may name others that
share them; one flagged account's case is removed before the matches are added, to stand
for an account detect did not flag.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from distillguard.cli.main import main
from distillguard.console.casestore import QueueFilter
from distillguard.console.evidence import add_matches
from distillguard.detect.summary import DetectSummary
from distillguard.sharing import keys
from distillguard.sharing.export import ExportOptions, export
from distillguard.sharing.findings import match_lake
from distillguard.verdicts.store import open_store
from tests.console.conftest import Served, make_console, serve


@pytest.fixture(scope="module")
def peer_matches(
    tiny_detect: DetectSummary, tiny_lake: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    root = tmp_path_factory.mktemp("peer")
    key = keys.generate()
    export(tiny_detect.out, key, root / "bundle.json", ExportOptions(producer="peer"), tiny_lake)
    out = root / "matches"
    summary = match_lake(root / "bundle.json", tiny_lake, key, out, name="us", tlp="amber")
    assert summary.accounts, "the run's own indicators must match its own lake"
    return out


@dataclass(frozen=True)
class WithMatches:
    served: Served
    unflagged: str  # the flagged account whose case was removed before the matches came
    queued: frozenset[str]  # the matched accounts detect had queued


@pytest.fixture
def with_matches(
    tiny_detect: DetectSummary, peer_matches: Path, tmp_path: Path
) -> Iterator[WithMatches]:
    state = tmp_path / "verdicts.jsonl"
    console = make_console(tiny_detect.out, tmp_path / "home", open_store(str(state)))
    matched = _matched(peer_matches)
    unflagged = next(a for a in matched if console.cases.case("account", a) is not None)
    console.cases.con.execute("DELETE FROM cases WHERE kind = 'account' AND id = ?", [unflagged])
    console.evidence.pop(("account", unflagged))
    queued = frozenset(a for a in matched if console.cases.case("account", a) is not None)
    assert add_matches(console.cases, console.evidence, peer_matches) == len(matched)
    for url in serve(console):
        served = Served(url, console, state)
        yield WithMatches(served, unflagged, queued)
        served.close()
    console.close()


def _matched(folder: Path) -> list[str]:
    return sorted(pq.read_table(folder / "matches.parquet")["account_id"].to_pylist())


def test_matched_accounts_join_the_queue(with_matches: WithMatches, peer_matches: Path) -> None:
    matched, queued = _matched(peer_matches), with_matches.queued
    assert queued  # both paths are exercised: the removed case's account joins as a peer
    cases = with_matches.served.console.cases
    peer = cases.queue(QueueFilter(tier="peer"))
    # every matched account detect did not queue, and only those, joins as a peer case
    assert sorted(r["id"] for r in peer.rows) == sorted(set(matched) - queued)
    assert with_matches.unflagged in {r["id"] for r in peer.rows}
    assert all(r["reasons"].startswith("peer indicators: ") for r in peer.rows)
    for account in queued:  # queued by detect: same case, same tier, reasons extended
        case = cases.case("account", account)
        assert case is not None and case["tier"] in {"flagged", "review"}
        assert "; peer indicators: " in case["reasons"]


def test_a_case_page_shows_the_peer_evidence(with_matches: WithMatches) -> None:
    analyst = with_matches.served.login("alice")
    unflagged = with_matches.unflagged
    for account in (unflagged, min(with_matches.queued)):  # a peer case, a detect case
        page = analyst.get(f"/case/account/{account}").text
        assert "the same operator as the peer&#39;s campaign" in page
        assert "matches a peer" in page  # the observed indicator match, apart from it
        # each fact says what it counts, as the HTML report's do
        assert "(its exchanges that matched the indicator while it was valid)" in page
    detect_case = analyst.get(f"/case/account/{min(with_matches.queued)}").text
    assert "(its exchanges in the window, as a percentile of all active accounts" in detect_case
    assert 'id="facts-when"' in detect_case  # says why two reasons' counts can differ
    queue = analyst.get("/?tier=peer").text
    assert unflagged in queue


def test_console_cli_refuses_a_folder_that_is_not_a_match(
    tiny_detect: DetectSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "verdicts.jsonl"
    args = ["console", "--findings", str(tiny_detect.out), "--state", str(state)]
    assert main([*args, "--matches", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not a 'share match' output folder" in err
