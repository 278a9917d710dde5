from __future__ import annotations

import json
import shutil
import stat
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest
from stix2validator import ValidationOptions, validate_string

from distillguard.cli.main import main
from distillguard.errors import ConfigError, UserError
from distillguard.ingest.lake import sql_path
from distillguard.sharing import stix
from distillguard.sharing.bundle_objects import stix_time
from distillguard.sharing.export import ExportOptions, export
from tests.sharing.conftest import World
from tests.sharing.leaks import Secrets


def assert_valid(text: str) -> None:
    """The OASIS validator, strict: its warnings (SHOULDs) fail too."""
    result = validate_string(text, ValidationOptions(version="2.1", strict=True))
    assert result.is_valid, [str(e) for e in result.errors]


def _objects(path: Path) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = json.loads(path.read_text())["objects"]
    return objects


def test_stix_times_are_utc_whatever_zone_they_come_in() -> None:
    kolkata = timezone(timedelta(hours=5, minutes=30))
    assert stix_time(datetime(2026, 2, 2, 6, 0, 0, 123456, kolkata)) == "2026-02-02T00:30:00.123Z"


def test_bundle_validates(world: World) -> None:
    assert_valid(world.bundle.read_text())


def test_bundle_has_a_campaign_per_flagged_cluster_and_keyed_indicators(world: World) -> None:
    objects = _objects(world.bundle)
    types = Counter(o["type"] for o in objects)
    ((flagged,),) = (
        duckdb.connect()
        .execute(
            f"SELECT count(*) FROM read_parquet('{sql_path(world.detect / 'clusters.parquet')}') "
            "WHERE flagged"
        )
        .fetchall()
    )
    assert types["campaign"] == flagged > 0
    assert types["indicator"] > 0 and types["infrastructure"] > 0
    indicators = [o for o in objects if o["type"] == "indicator"]
    kinds = {stix.extension_of(i)["fingerprint_kind"] for i in indicators}
    assert {"template_skeleton", "template_band", "payment", "signup_network"} <= kinds
    for i in indicators:
        props = stix.extension_of(i)
        assert props["key_id"] == world.key.key_id
        assert props["accounts_seen"] >= 2 and props["exchanges_seen"] >= props["accounts_seen"]
        assert 0 <= i["confidence"] <= 100 and i["valid_until"] > i["valid_from"]
        assert i["kill_chain_phases"][0]["kill_chain_name"] == stix.KILL_CHAIN
        assert i["object_marking_refs"] == [stix.tlp_marking("amber").id]
        value = i["pattern"].split("'")[1]
        assert len(value) == 64 and world.key.keyed(props["fingerprint_kind"], "") != value


def test_an_export_made_again_is_the_same_bundle(world: World, tmp_path: Path) -> None:
    """Stable ids with a new `created` at each export: two versions of one object that
    disagree on when it was created, which STIX 2.1 forbids (3.6)."""
    again = tmp_path / "again.json"
    export(world.detect, world.key, again, ExportOptions(producer="provider A"), world.lake)
    assert again.read_text() == world.bundle.read_text()
    for o in (o for o in _objects(again) if "modified" in o):  # markings have none
        assert o["created"] <= o["modified"]


def test_a_later_run_exports_later_versions_of_the_same_objects(
    world: World, tmp_path: Path
) -> None:
    """`modified` was the evidence's last seen: a later run whose score changed but whose
    evidence did not grow gave the same version with another body, which a TAXII server
    refuses. It is the run's end (or its last seen, if later)."""
    later = tmp_path / "detect"
    shutil.copytree(world.detect, later)
    run = json.loads((later / "run.json").read_text())
    run["finished"], run["lake"] = "2099-01-01T00:00:00+00:00", str(world.lake)
    (later / "run.json").write_text(json.dumps(run))
    again = tmp_path / "later.json"
    export(later, world.key, again, ExportOptions(producer="provider A"), world.lake)
    before = {o["id"]: o for o in _objects(world.bundle)}
    versioned = ("indicator", "campaign", "relationship", "infrastructure")
    made = [o for o in _objects(again) if o["type"] in versioned]
    assert made and all(o["created"] == before[o["id"]]["created"] for o in made)
    assert all(o["modified"] == "2099-01-01T00:00:00.000Z" for o in made)


def test_an_export_over_its_last_bundle_keeps_each_objects_first_created(
    world: World, tmp_path: Path
) -> None:
    """A lake past its retention no longer holds the traffic that set an object's
    `created`, and a re-export moved it: one id, two creation times (STIX 2.1 3.6). The
    bundle an export replaces keeps them; an empty file there is just replaced."""
    out = tmp_path / "bundle.json"
    out.write_text('{\n    "type": "bundle",\n    "id": "bundle--')  # an export killed half way
    export(world.detect, world.key, out, ExportOptions(producer="provider A"), world.lake)
    assert _objects(out) == _objects(world.bundle)
    doc = json.loads(out.read_text())
    moved = next(o for o in doc["objects"] if o["type"] == "indicator")
    moved["created"] = "2020-01-01T00:00:00.000Z"  # as if its first traffic had aged out
    out.write_text(json.dumps(doc))
    export(world.detect, world.key, out, ExportOptions(producer="provider A"), world.lake)
    after = {o["id"]: o for o in _objects(out)}
    assert after[moved["id"]]["created"] == "2020-01-01T00:00:00.000Z"
    assert all(
        after[o["id"]]["created"] == o["created"]
        for o in _objects(world.bundle)
        if o["id"] != moved["id"]
    )
    assert_valid(out.read_text())
    doc = json.loads(out.read_text())  # an old bundle edited by hand: its times are skipped
    bad = ["2020-01-01T00:00:00", "yesterday", 7, "0001-01-01T00:00:00+05:00"]  # no UTC
    for o, value in zip(doc["objects"][-4:], bad, strict=True):
        o["created"] = value
    out.write_text(json.dumps(doc))
    export(world.detect, world.key, out, ExportOptions(producer="provider A"), world.lake)
    assert_valid(out.read_text())


@pytest.mark.parametrize(
    ("case", "name", "content"),
    [
        ("the run's own record", "run.json", b'{"lake": "lake"}'),
        ("a table", "accounts.parquet", b"PAR1\x00\x00PAR1"),
        ("a JSON object of another kind", "notes.json", b'{"type": "report"}'),
    ],
)
def test_an_export_over_a_file_that_is_not_a_bundle_is_refused(
    world: World, tmp_path: Path, case: str, name: str, content: bytes
) -> None:
    """`--out detect/run.json` replaced the run's record, and the next export silently
    lost its payment and sign-up indicators; a table there broke the next run."""
    out = tmp_path / name
    out.write_bytes(content)
    with pytest.raises(UserError, match="is there and is not a STIX bundle"):
        export(world.detect, world.key, out, ExportOptions(producer="provider A"), world.lake)
    assert out.read_bytes() == content, case


def test_an_export_without_the_accounts_table_says_what_it_left_out(
    world: World, tmp_path: Path
) -> None:
    """A run whose record is gone (or a lake elsewhere) gives no payment or sign-up
    indicators, the strongest: the bundle looked complete without them."""
    detect = tmp_path / "detect"
    shutil.copytree(world.detect, detect)
    (detect / "run.json").unlink()
    summary = export(detect, world.key, tmp_path / "b.json", ExportOptions(producer="A"))
    assert not summary.accounts_table and "give --lake LAKE" in summary.line()
    whole = export(detect, world.key, tmp_path / "c.json", ExportOptions(producer="A"), world.lake)
    assert whole.accounts_table and "--lake" not in whole.line()
    assert whole.indicators > summary.indicators


def test_every_reference_resolves(world: World) -> None:
    objects = _objects(world.bundle)
    ids = {o["id"] for o in objects}
    assert len(ids) == len(objects), "an id appears twice in the bundle"
    for o in objects:
        refs = [o.get("created_by_ref"), o.get("source_ref"), o.get("target_ref")]
        refs += o.get("object_marking_refs", [])
        assert {r for r in refs if r} <= ids, o["id"]


def test_no_customer_secret_leaves(world: World, world_secrets: Secrets) -> None:
    secrets = world_secrets
    assert len(secrets.tokens) > 1000 and len(secrets.shingles) > 1000
    assert secrets.hits(world.bundle.read_text()) == []


def test_the_leak_scan_finds_a_planted_leak(world: World, world_secrets: Secrets) -> None:
    """The scan above could pass by being blind; plant secrets and see it find them."""
    secrets = world_secrets
    indicator = next(o for o in _objects(world.bundle) if o["type"] == "indicator")
    clean = json.dumps(indicator)
    assert secrets.hits(clean) == []
    for planted in sorted(secrets.tokens)[::997]:
        assert planted in secrets.hits(clean.replace('"name": "', f'"name": "{planted} ', 1))
    words = " ".join(sorted(secrets.shingles)[0])
    assert secrets.hits(clean.replace('"name": "', f'"name": "{words} ', 1))


def test_cli_keygen_and_export(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, out = tmp_path / "key.json", tmp_path / "b.json"
    assert main(["share", "keygen", "--out", str(key)]) == 0
    args = ["share", "export", str(world.detect), "--key", str(key), "--out", str(out)]
    assert main([*args, "--lake", str(world.lake), "--tlp", "green"]) == 0
    printed = capsys.readouterr().out
    producer = stix.producer("distillguard producer").id  # what `share user --identity` binds
    assert "campaign(s)" in printed and f"by {producer} ->" in printed
    assert f'"created_by_ref": "{producer}"' in out.read_text()
    assert_valid(out.read_text())
    assert stix.tlp_marking("green").id in out.read_text()
    assert main(["share", "export", str(tmp_path), "--key", str(key), "--out", str(out)]) == 2
    assert "not a detect output" in capsys.readouterr().err
    # a mistyped --lake dropped every payment and sign-up indicator, exit 0
    assert main([*args, "--lake", str(tmp_path / "missinglake")]) == 2
    assert "missinglake is not a lake" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"valid_days": 0}, "valid-days"),
        ({"tlp": "purple"}, "unknown TLP level"),
        ({"producer": " "}, "--producer needs a name"),  # an identity named "" was written
    ],
)
def test_bad_export_options_raise(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ExportOptions(**options)


def test_an_export_writes_into_what_out_names(world: World, tmp_path: Path) -> None:
    """Written aside and renamed, an export replaced a link at --out with a file, a device
    (/dev/null, /dev/stdout) with a file, and an owner-only TLP:RED bundle with one all
    could read: it writes into the file the path names."""
    target = tmp_path / "kept" / "bundle.json"
    target.parent.mkdir()
    target.write_text("")
    target.chmod(0o600)
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    export(world.detect, world.key, link, ExportOptions(producer="provider A"), world.lake)
    assert link.is_symlink() and _objects(target) == _objects(world.bundle)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    export(world.detect, world.key, Path("/dev/null"), ExportOptions(producer="A"), world.lake)
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)
