"""`share match` feeds the case store: a peer's matches join the queue with their evidence.

The bundle is the tiny run's own export matched back against its own lake (a peer with the
same operator), so every account it names is one detect flagged; one of those cases is
removed before the matches are added, to stand for an account detect did not flag.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from distillguard.cli.main import main
from distillguard.console.casestore import QueueFilter
from distillguard.console.evidence import add_matches
from distillguard.detect.run import DetectSummary
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


@pytest.fixture
def with_matches(
    tiny_detect: DetectSummary, peer_matches: Path, tmp_path: Path
) -> Iterator[Served]:
    state = tmp_path / "verdicts.jsonl"
    console = make_console(tiny_detect.out, tmp_path / "home", open_store(str(state)))
    unflagged = _matched(peer_matches)[0]
    console.cases.con.execute("DELETE FROM cases WHERE kind = 'account' AND id = ?", [unflagged])
    console.evidence.pop(("account", unflagged))
    assert add_matches(console.cases, console.evidence, peer_matches) == len(_matched(peer_matches))
    for url in serve(console):
        served = Served(url, console, state)
        yield served
        served.close()
    console.close()


def _matched(folder: Path) -> list[str]:
    return sorted(pq.read_table(folder / "matches.parquet")["account_id"].to_pylist())


def test_matched_accounts_join_the_queue(with_matches: Served, peer_matches: Path) -> None:
    matched = _matched(peer_matches)
    cases = with_matches.console.cases
    peer = cases.queue(QueueFilter(tier="peer"))
    assert [r["id"] for r in peer.rows] == [matched[0]]  # the one detect did not queue
    assert peer.rows[0]["reasons"].startswith("peer indicators: ")
    for account in matched[1:]:  # queued by detect: same case, same tier, reasons extended
        case = cases.case("account", account)
        assert case is not None and case["tier"] in {"flagged", "review"}
        assert "; peer indicators: " in case["reasons"]


def test_a_case_page_shows_the_peer_evidence(with_matches: Served, peer_matches: Path) -> None:
    analyst = with_matches.login("alice")
    for account in _matched(peer_matches)[:2]:
        page = analyst.get(f"/case/account/{account}").text
        assert "same campaign as a peer" in page
        assert "matches a peer" in page  # the observed indicator match, apart from it
    queue = analyst.get("/?tier=peer").text
    assert _matched(peer_matches)[0] in queue


def test_console_cli_refuses_a_folder_that_is_not_a_match(
    tiny_detect: DetectSummary, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "verdicts.jsonl"
    args = ["console", "--findings", str(tiny_detect.out), "--state", str(state)]
    assert main([*args, "--matches", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not a 'share match' output folder" in err
