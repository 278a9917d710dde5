from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from distillguard.cli.main import main
from distillguard.errors import UserError
from distillguard.ingest.lake import sql_path
from distillguard.sharing import keys, stix
from distillguard.sharing.findings import MatchSummary, match_lake
from distillguard.sharing.peer import read_bundle, same_operator
from distillguard.signals.sketch import band_keys, minhash, skeleton_words
from distillguard.signals.text import skeleton
from tests.sharing.conftest import World
from tests.sharing.leaks import Secrets
from tests.sharing.test_export import assert_valid


@pytest.fixture(scope="module")
def self_match(world: World, tmp_path_factory: pytest.TempPathFactory) -> MatchSummary:
    """Provider A's bundle matched against A's own lake: what it flagged must come back."""
    out = tmp_path_factory.mktemp("match")
    return match_lake(world.bundle, world.lake, world.key, out, name="provider B", tlp="amber")


def _flagged(world: World) -> set[str]:
    path = sql_path(world.detect / "accounts.parquet")
    sql = f"SELECT account_id FROM read_parquet('{path}') WHERE flagged"
    rows = duckdb.connect().execute(sql).fetchall()
    return {a for (a,) in rows}


def test_flagged_accounts_match_their_own_indicators(
    world: World, self_match: MatchSummary
) -> None:
    matched = {a.account_id: a.score for a in self_match.accounts}
    flagged = _flagged(world)
    assert len(flagged & set(matched)) >= 0.8 * len(flagged)
    unflagged = [s for a, s in matched.items() if a not in flagged]
    assert len(unflagged) <= 0.1 * len(matched)
    assert all(s < 0.85 for s in unflagged), "an unflagged account matched as strongly as A's"


def test_a_rerun_into_the_same_folder_updates_its_findings(
    world: World, self_match: MatchSummary, tmp_path: Path
) -> None:
    shutil.copy(self_match.out / "findings.ocsf.jsonl", tmp_path)
    match_lake(world.bundle, world.lake, world.key, tmp_path, name="provider B", tlp="amber")
    rows = [
        json.loads(line) for line in (tmp_path / "findings.ocsf.jsonl").read_text().splitlines()
    ]
    assert rows and {r["activity_name"] for r in rows} == {"Update"}


def _count(fact: object) -> int:
    assert isinstance(fact, int)
    return fact


def test_matched_exchanges_count_each_exchange_once(world: World, self_match: MatchSummary) -> None:
    """One exchange often matches several indicators; the fact counts exchanges."""
    path = sql_path(world.lake / "exchanges")
    sql = f"SELECT account_id, count(*) FROM read_parquet('{path}/*/*.parquet') GROUP BY ALL"
    in_lake = dict(duckdb.connect().execute(sql).fetchall())
    several = 0
    for account in self_match.accounts:
        summary, *per_indicator = account.evidence
        matched = _count(summary.observed["exchanges"])
        counts = [_count(e.observed["exchanges"]) for e in per_indicator]
        assert max(counts) <= matched <= in_lake[account.account_id]
        several += matched < sum(counts)
    assert several > 0  # else the world tests nothing: no exchange matched twice


def test_findings_keep_observed_apart_from_inferred(self_match: MatchSummary) -> None:
    account = max(self_match.accounts, key=lambda a: a.score)
    inferred, *observed = account.evidence
    assert inferred.code == "peer_campaign" and inferred.observed["campaigns"]
    assert 0 < inferred.confidence <= 0.95
    assert observed and all(e.code == "peer_indicator" for e in observed)
    first = observed[0].observed
    # one inference, one phrasing: the summary's and each indicator's name the operator
    campaigns = inferred.observed["campaigns"]
    assert isinstance(campaigns, list)
    assert inferred.inference == same_operator(campaigns)
    assert {e.inference for e in observed} <= {same_operator([c]) for c in campaigns}
    assert str(first["indicator"]).startswith("indicator--")
    assert isinstance(first["exchanges"], int) and first["exchanges"] >= 1 and first["kind"]
    lines = (self_match.out / "findings.ocsf.jsonl").read_text().splitlines()
    assert len(lines) == len(self_match.accounts)
    assert (self_match.out / "matches.csv").read_text().count("\n") == len(lines) + 1


def test_match_findings_are_their_own_kind_beside_detects(
    world: World, self_match: MatchSummary
) -> None:
    """A match finding had detect's uid for the same account (a SIEM keyed on it let a
    Medium match overwrite detect's Critical alert, and a re-run close it), detect's
    analytic, and a weak exit-network match was a Medium alert."""
    own = [json.loads(x) for x in (world.detect / "findings.ocsf.jsonl").read_text().splitlines()]
    lines = (self_match.out / "findings.ocsf.jsonl").read_text().splitlines()
    matched = [json.loads(line) for line in lines]
    assert {f["finding_info"]["uid"] for f in own}.isdisjoint(
        f["finding_info"]["uid"] for f in matched
    )
    assert {f["finding_info"]["analytic"]["uid"] for f in matched} == {"distillguard.peer_match"}
    for f in matched:
        score = f["unmapped"]["score"]
        expected = 2 if score < 0.5 else 3 if score < 0.8 else 4
        assert (f["severity_id"], f["is_alert"]) == (expected, expected >= 3)


def test_sightings_validate_and_leak_nothing(
    self_match: MatchSummary, world_secrets: Secrets
) -> None:
    text = (self_match.out / "sightings.json").read_text()
    assert_valid(text)
    sightings = [o for o in json.loads(text)["objects"] if o["type"] == "sighting"]
    assert len(sightings) == self_match.sightings > 0
    assert all(
        s["sighting_of_ref"].startswith("indicator--") and s["count"] >= 1 for s in sightings
    )
    assert world_secrets.hits(text) == []
    for s in sightings:  # counts in words a reader can quote: "1 local account", not "accounts'"
        n, m = s["extensions"][next(iter(s["extensions"]))]["accounts_seen"], s["count"]
        account = f"{n} local account{'s' * (n != 1)}"
        assert (
            s["description"] == f"Seen in the traffic of {account} ({m} exchange{'s' * (m != 1)})."
        )


def test_a_bundle_under_another_key_is_refused(world: World) -> None:
    with pytest.raises(UserError, match="another community key"):
        read_bundle(world.bundle, keys.generate())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope", "not a JSON STIX bundle"),
        ('{"a": [1, 2]}', 'no "type": "bundle"'),  # read as an empty bundle: "no matches"
        ('{"objects": []}', 'no "type": "bundle"'),
        ('{"more": false, "objects": []}', "a TAXII envelope\\? 'share pull' writes"),
        ('{"type": "bundle", "objects": 3}', "its objects are not a list"),
    ],
)
def test_bad_bundles_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        read_bundle(path, keys.generate())


def test_foreign_indicators_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    foreign = {
        "type": "indicator",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "pattern": "[ipv4-addr:value = '198.51.100.1']",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    path.write_text(json.dumps({"type": "bundle", "objects": [foreign]}))
    peer = read_bundle(path, keys.generate())
    assert peer.indicators == () and peer.skipped == 1


EXTENSION = stix.PROPERTIES.id


@pytest.mark.parametrize(
    ("objects", "skipped"),
    [
        ([{"type": "indicator", "id": "indicator--1", "extensions": [1]}], 1),
        ([{"type": "indicator", "id": "indicator--1", "extensions": {EXTENSION: "x"}}], 1),
        ([{"type": "campaign", "name": "no id"}], 0),
        (
            [
                {"type": "campaign", "id": "campaign--1"},
                {
                    "type": "relationship",
                    "relationship_type": "indicates",
                    "target_ref": "campaign--1",
                },
            ],
            0,
        ),
    ],
)
def test_malformed_objects_of_a_peer_bundle_are_skipped(
    tmp_path: Path, objects: list[dict[str, object]], skipped: int
) -> None:
    """A peer's bundle is outside input: odd objects are passed over, never a traceback."""
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"type": "bundle", "objects": objects}))
    peer = read_bundle(path, keys.generate())
    assert peer.indicators == () and peer.skipped == skipped


@pytest.mark.parametrize(("confidence", "read"), [(1000, 1.0), (-5, 0.0), (40, 0.4)])
def test_a_peers_confidence_is_read_within_stix_range(
    tmp_path: Path, confidence: int, read: float
) -> None:
    key = keys.generate()
    indicator = {
        "type": "indicator",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "pattern": stix.fingerprint_pattern("template_band", key.keyed("template_band", "0:1")),
        "valid_from": "2026-01-01T00:00:00Z",
        "confidence": confidence,
    }
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"type": "bundle", "objects": [indicator]}))
    (parsed,) = read_bundle(path, key).indicators
    assert parsed.confidence == read


def _keyed_indicator(key: keys.CommunityKey, **fields: object) -> dict[str, object]:
    return {
        "type": "indicator",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "pattern": stix.fingerprint_pattern("template_band", key.keyed("template_band", "0:1")),
        "valid_from": "2026-01-01T00:00:00Z",
        "modified": "2026-01-01T00:00:00.000Z",
        **fields,
    }


def test_a_revoked_indicator_is_not_matched(tmp_path: Path) -> None:
    """STIX takes an indicator back with a later version that says revoked: it was
    matched as if it stood, from a bundle or from TAXII (which serves the latest)."""
    key = keys.generate()
    first = _keyed_indicator(key)
    taken_back = _keyed_indicator(key, modified="2026-01-02T00:00:00.000Z", revoked=True)
    path = tmp_path / "b.json"
    tie = _keyed_indicator(key, revoked=True)  # the same modified as `first`
    for objects, standing, revoked in (([first], 1, 0), ([first, taken_back], 0, 1),
                                       ([taken_back, first], 0, 1), ([tie, first], 0, 1),
                                       ([first, tie], 0, 1)):  # fmt: skip
        path.write_text(json.dumps({"type": "bundle", "objects": objects}))
        peer = read_bundle(path, key)
        assert (len(peer.indicators), peer.revoked) == (standing, revoked)


@pytest.mark.parametrize("confidence", ["nan", "inf", "-inf"])
def test_a_confidence_that_is_no_number_skips_the_indicator(
    tmp_path: Path, confidence: str
) -> None:
    """'nan' was read as a float and was a traceback when the findings were written."""
    key = keys.generate()
    path = tmp_path / "b.json"
    path.write_text(
        json.dumps({"type": "bundle", "objects": [_keyed_indicator(key, confidence=confidence)]})
    )
    peer = read_bundle(path, key)
    assert (peer.indicators, peer.skipped) == ((), 1)


def test_near_duplicate_templates_share_a_keyed_band_without_text() -> None:
    """Two prompts cut from one template, differing in a few words: their skeletons (and so
    exact fingerprints) differ, yet a keyed LSH band matches; an unrelated prompt shares none."""
    base = (
        "You are an expert tutor. Solve the following competition problem, show every "
        "intermediate step of your reasoning in detail, verify the result twice and state "
        "the final answer clearly at the end of your response for the record"
    )
    texts = [base, base.replace("expert tutor", "careful teacher"), "what is the weather like"]
    skeletons = skeleton(pc.utf8_lower(pa.array(texts)))
    bands = band_keys(minhash(skeleton_words(skeletons)))
    key = keys.generate()
    keyed = [{key.keyed("template_band", f"{b}:{v}") for b, v in enumerate(row)} for row in bands]
    assert skeletons[0] != skeletons[1]
    assert keyed[0] & keyed[1]
    assert not keyed[0] & keyed[2]


def test_cli_match_on_a_non_lake_is_a_one_line_error(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "key.json"
    keys.save(world.key, key)
    args = ["share", "match", str(world.bundle), str(tmp_path), "--key", str(key)]
    assert main([*args, "--out", str(tmp_path / "m")]) == 2
    assert "not a lake" in capsys.readouterr().err


def test_indicators_under_another_key_are_counted_not_matched(world: World, tmp_path: Path) -> None:
    """A mixed bundle's other-key indicators were dropped without a word."""
    bundle = json.loads(world.bundle.read_text())
    indicators = [o for o in bundle["objects"] if o["type"] == "indicator"]
    assert len(indicators) >= 2
    for indicator in indicators[:2]:
        indicator["extensions"][stix.PROPERTIES.id]["key_id"] = "another-key"
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps(bundle))
    peer = read_bundle(mixed, world.key)
    assert (len(peer.indicators), peer.other_key) == (len(indicators) - 2, 2)
    summary = MatchSummary([], 0, len(peer.indicators), peer.skipped, tmp_path, peer.other_key)
    assert "2 under another community key" in summary.line()
