"""A case exports its campaign as a keyed STIX 2.1 bundle that the OASIS validator accepts
and that holds none of the run's account ids or prompt text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from stix2validator import ValidationOptions, validate_string

from distillguard.console.casestore import QueueFilter
from distillguard.detect.summary import DetectSummary
from distillguard.sharing import keys
from distillguard.verdicts.store import open_store
from tests.console.conftest import Served, make_console, serve


@pytest.fixture
def sharing(tiny_detect: DetectSummary, tmp_path: Path) -> Iterator[Served]:
    state = tmp_path / "verdicts.jsonl"
    console = make_console(tiny_detect.out, tmp_path / "home", open_store(str(state)))
    console.share_key = keys.generate()
    for url in serve(console):
        served = Served(url, console, state)
        yield served
        served.close()
    console.close()


def test_a_cluster_case_exports_its_campaign(sharing: Served, tiny_detect: DetectSummary) -> None:
    cluster = str(sharing.console.cases.queue(QueueFilter(kind="cluster")).rows[0]["id"])
    analyst = sharing.login("alice")
    assert 'id="stix"' in analyst.get(f"/case/cluster/{cluster}").text
    reply = analyst.get(f"/case/cluster/{cluster}/stix.json")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/stix+json")
    result = validate_string(reply.text, ValidationOptions(version="2.1", strict=True))
    assert result.is_valid, [str(e) for e in result.errors]
    objects = json.loads(reply.text)["objects"]
    assert [o["type"] for o in objects].count("campaign") == 1
    assert any(o["type"] == "indicator" for o in objects)
    members = next(c.accounts for c in tiny_detect.clusters if c.cluster_id == cluster)
    assert not any(a in reply.text for a in members)
    assert cluster not in reply.text


def test_without_a_share_key_there_is_no_stix_export(served: Served) -> None:
    cluster = str(served.console.cases.queue(QueueFilter(kind="cluster")).rows[0]["id"])
    analyst = served.login("alice")
    assert 'id="stix"' not in analyst.get(f"/case/cluster/{cluster}").text
    assert analyst.get(f"/case/cluster/{cluster}/stix.json").status_code == 404
