from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from distillguard.errors import ConfigError, UserError
from distillguard.findings.fingerprints import keyed
from distillguard.findings.lifecycle import FINDINGS_FILE, PreviousFindings
from distillguard.findings.ocsf import OcsfSink, confidence_id, findings, severity_id
from distillguard.findings.responses import GatewayAction
from distillguard.findings.subjects import FLAGGED, REVIEW, Subject, account_uid, cluster_uid
from tests.findings.ocsf_validate import ocsf_errors
from tests.findings.results import T0, cluster, sample_run

BEFORE = Path(__file__).parent / "data" / "findings_before_issue_21.jsonl"


def _by_title(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["message"]: r for r in rows}


def _written(run_findings: list[dict[str, Any]], folder: Path) -> PreviousFindings:
    folder.mkdir(exist_ok=True)
    (folder / FINDINGS_FILE).write_bytes(b"".join(orjson.dumps(f) + b"\n" for f in run_findings))
    return PreviousFindings.read(folder)


def test_findings_written_before_issue_21_are_rejected() -> None:
    """The validators can fail: the findings detect wrote before lacked
    finding_info.analytic.uid and carried evidence fields OCSF does not define."""
    for line in BEFORE.read_bytes().splitlines():
        errors = ocsf_errors(orjson.loads(line))
        assert any("analytic" in e and "uid" in e for e in errors)
        assert any("reason" in e for e in errors)


def test_every_finding_validates_against_py_ocsf_models_and_its_declared_schema() -> None:
    rows = findings(sample_run())
    assert len(rows) == 3  # the cluster, the flagged account alone, the review account
    for row in rows:
        assert row["metadata"]["version"] == "1.5.0"
        assert ocsf_errors(row) == []


def test_one_finding_per_cluster_flagged_account_and_review_account() -> None:
    rows = _by_title(findings(sample_run()))
    cluster_finding = rows["Distillation cluster of 3 accounts"]
    assert [r["uid"] for r in cluster_finding["resources"]] == ["m1", "m2", "m3"]
    assert cluster_finding["finding_info"]["uid"] == cluster_uid(["m3", "m1", "m2"])
    assert cluster_finding["unmapped"]["cluster_id"] == "c-m1-m2-m3"
    assert cluster_finding["unmapped"]["exchanges"] == 120
    assert rows["Distillation account"]["finding_info"]["uid"] == account_uid("solo")
    review = rows["Possible distillation account (review)"]
    assert review["finding_info"]["uid"] == account_uid("maybe")
    assert "benign" not in {r["uid"] for row in rows.values() for r in row["resources"]}


def test_review_findings_are_low_severity_so_a_severity_filter_drops_them() -> None:
    rows = findings(sample_run())
    review = [r for r in rows if "review" in r["finding_info"]["types"]]
    assert [r["severity_id"] for r in review] == [2]
    assert review[0]["severity"] == "Low" and review[0]["is_alert"] is False
    kept = [r for r in rows if r["severity_id"] >= 3]
    assert {r["message"] for r in kept} == {
        "Distillation cluster of 3 accounts",
        "Distillation account",
    }


@pytest.mark.parametrize(
    ("tier", "score", "severity"),
    [
        (REVIEW, 0.84, 2),
        (REVIEW, 0.99, 2),
        (FLAGGED, 0.85, 3),
        (FLAGGED, 0.9, 4),
        (FLAGGED, 0.969, 4),
        (FLAGGED, 0.97, 5),
    ],
)
def test_severity_from_tier_and_score(tier: str, score: float, severity: int) -> None:
    subject = Subject("account", "u", "a", tier, score, None, ("a",), ())
    assert severity_id(subject) == severity


@pytest.mark.parametrize(("score", "confidence"), [(0.5, 1), (0.75, 2), (0.89, 2), (0.9, 3)])
def test_confidence_from_score(score: float, confidence: int) -> None:
    assert confidence_id(score) == confidence


def test_observed_facts_are_kept_apart_from_the_inference() -> None:
    row = _by_title(findings(sample_run()))["Distillation account"]
    [evidence] = row["evidences"]
    assert evidence["name"] == "elicits_reasoning"
    assert evidence["data"]["observed"]["eliciting_exchanges"] == 40
    assert "harvests" not in orjson.dumps(evidence).decode()
    [inference] = row["unmapped"]["inferences"]
    assert inference == {
        "evidence": "elicits_reasoning",
        "inference": "harvests chain-of-thought outputs",
        "confidence": 0.83,
    }
    assert row["confidence_score"] == 93 and row["confidence_id"] == 3


def test_a_rerun_updates_the_same_findings_and_keeps_when_they_were_created(
    tmp_path: Path,
) -> None:
    first = findings(sample_run())
    second = findings(sample_run(_written(first, tmp_path), hours=1))
    assert [f["finding_info"]["uid"] for f in second] == [f["finding_info"]["uid"] for f in first]
    assert {(f["activity_id"], f["activity_name"], f["type_uid"]) for f in second} == {
        (2, "Update", 200402)
    }
    for before, after in zip(first, second, strict=True):
        assert after["finding_info"]["created_time"] == before["finding_info"]["created_time"]
        assert after["time"] == before["time"] + 3_600_000
        assert ocsf_errors(after) == []


def test_a_finding_no_longer_found_is_closed_once(tmp_path: Path) -> None:
    first = findings(sample_run())
    run = sample_run(_written(first, tmp_path / "1"), hours=1)
    run = replace(run, accounts=tuple(a for a in run.accounts if a.account_id != "maybe"))
    second = findings(run)
    [closed] = [f for f in second if f["activity_id"] == 3]
    assert closed["finding_info"]["uid"] == account_uid("maybe")
    assert (closed["type_uid"], closed["status_id"], closed["status_detail"]) == (
        200403,
        99,
        "no longer detected",
    )
    assert closed["is_alert"] is False  # it kept the open finding's true: a page to close
    assert ocsf_errors(closed) == []
    third = findings(replace(run, previous=_written(second, tmp_path / "2")))
    assert account_uid("maybe") not in {f["finding_info"]["uid"] for f in third}


def test_a_finding_whose_accounts_were_dismissed_closes_as_suppressed(tmp_path: Path) -> None:
    """An analyst's dismissal is a review, not detection stopping: OCSF status Suppressed,
    with who and why. A cluster closes so only when every member it listed was dismissed."""
    first = findings(sample_run())
    run = sample_run(_written(first, tmp_path), hours=1)
    gone = {"solo", "m1", "m2", "m3"}
    run = replace(
        run,
        accounts=tuple(a for a in run.accounts if a.account_id not in {"solo", "maybe"}),
        clusters=(),
        dismissed={a: "dismissed by ana: CI pipeline" for a in gone - {"m3"}},
    )
    closed = {f["finding_info"]["uid"]: f for f in findings(run) if f["activity_id"] == 3}
    status = {uid: (f["status_id"], f["status"], f["status_detail"]) for uid, f in closed.items()}
    assert status == {
        account_uid("solo"): (3, "Suppressed", "dismissed by ana: CI pipeline"),
        account_uid("maybe"): (99, "Cleared", "no longer detected"),
        cluster_uid(["m1", "m2", "m3"]): (99, "Cleared", "no longer detected"),  # m3 was not
    }
    assert all(ocsf_errors(f) == [] for f in closed.values())
    run = replace(run, dismissed={a: "dismissed by ana: CI pipeline" for a in gone})
    closed = {f["finding_info"]["uid"]: f for f in findings(run) if f["activity_id"] == 3}
    assert closed[cluster_uid(["m1", "m2", "m3"])]["status_id"] == 3


def test_a_cluster_that_grows_keeps_its_uid(tmp_path: Path) -> None:
    first = findings(sample_run())
    grown = cluster(("m1", "m2", "m3", "m4"))
    run = replace(sample_run(_written(first, tmp_path), hours=6), clusters=(grown,))
    second = _by_title(findings(run))
    assert second["Distillation cluster of 4 accounts"]["finding_info"]["uid"] == cluster_uid(
        ["m1", "m2", "m3"]
    )
    assert second["Distillation cluster of 4 accounts"]["activity_id"] == 2


def test_a_cluster_sharing_under_half_the_members_is_a_new_finding(tmp_path: Path) -> None:
    first = findings(sample_run())
    other = cluster(("m3", "x1", "x2", "x3"))
    second = findings(replace(sample_run(_written(first, tmp_path), hours=6), clusters=(other,)))
    by_activity = {
        f["activity_id"]: f["finding_info"]["uid"]
        for f in second
        if "cluster" in f["finding_info"]["types"]
    }
    assert by_activity == {1: cluster_uid(other.accounts), 3: cluster_uid(["m1", "m2", "m3"])}


def test_a_cluster_split_off_from_its_grown_self_gets_a_uid_of_its_own(tmp_path: Path) -> None:
    """{m1..m3} grows into {m1..m3, x1..x3}, then {m3, x1..x3} continues that finding and
    {m1, m2, m3} is found alone again: its own uid is taken, so it gets another."""
    first = findings(sample_run())
    grown = cluster(("m1", "m2", "m3", "x1", "x2", "x3"))
    second = findings(
        replace(sample_run(_written(first, tmp_path / "1"), hours=6), clusters=(grown,))
    )
    split = (cluster(("m3", "x1", "x2", "x3")), cluster(("m1", "m2", "m3")))
    run = replace(sample_run(_written(second, tmp_path / "2"), hours=12), clusters=split)
    uids = [
        f["finding_info"]["uid"] for f in findings(run) if "cluster" in f["finding_info"]["types"]
    ]
    assert len(uids) == len(set(uids)) == 2 and cluster_uid(["m1", "m2", "m3"]) in uids


def test_account_ids_and_keyed_template_fingerprints_are_observables() -> None:
    run = sample_run()
    fingerprints = {"solo": (1234567, 7654321)}
    rows = {
        key: _by_title(findings(replace(run, fingerprints=fingerprints, fingerprint_key=key)))
        for key in (b"k" * 16, b"j" * 16)
    }
    solo = rows[b"k" * 16]["Distillation account"]
    observables = {(o["type_id"], o["value"]) for o in solo["observables"]}
    assert (10, "solo") in observables
    assert (8, keyed(b"k" * 16, 1234567)) in observables
    assert "1234567" not in orjson.dumps(solo).decode()
    other_key = rows[b"j" * 16]["Distillation account"]
    assert {o["value"] for o in other_key["observables"]} & {
        o["value"] for o in solo["observables"] if o["type_id"] == 8
    } == set()
    assert ocsf_errors(solo) == []
    unkeyed = _by_title(findings(replace(run, fingerprints=fingerprints)))["Distillation account"]
    assert {o["type_id"] for o in unkeyed["observables"]} == {10}


def test_the_gateways_response_is_carried_with_the_security_control_profile() -> None:
    """A hand-made verdict mapping stands in for the gateway's (built elsewhere)."""
    responses = {
        "solo": GatewayAction("throttle", T0),
        "m2": GatewayAction("monitor"),
        "m3": GatewayAction("block_account", T0),
    }
    rows = _by_title(findings(replace(sample_run(), responses=responses)))
    solo, group = rows["Distillation account"], rows["Distillation cluster of 3 accounts"]
    assert (solo["action_id"], solo["disposition_id"]) == (4, 14)
    assert (group["action_id"], group["disposition_id"], group["disposition"]) == (2, 2, "Blocked")
    assert group["unmapped"]["response"]["rung"] == "block_account"
    for row in (solo, group):
        assert row["metadata"]["profiles"] == ["security_control"]
        assert ocsf_errors(row) == []
    review = rows["Possible distillation account (review)"]
    assert "action_id" not in review and "profiles" not in review["metadata"]


def test_an_unknown_response_rung_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="block_account"):
        GatewayAction("ban")


def test_a_missing_or_broken_previous_findings_file_is_a_user_error(tmp_path: Path) -> None:
    assert PreviousFindings.read(tmp_path).findings == {}
    with pytest.raises(UserError, match="does not exist"):
        PreviousFindings.read(tmp_path, required=True)
    (tmp_path / FINDINGS_FILE).write_text('{"class_uid": 2004}\nnot json\n')
    with pytest.raises(UserError, match=":1: not an OCSF Detection Finding"):
        PreviousFindings.read(tmp_path)


def test_the_sink_writes_one_finding_a_line(tmp_path: Path) -> None:
    output = OcsfSink().write(sample_run(), tmp_path)
    lines = output.paths[0].read_bytes().splitlines()
    assert output.records == len(lines) == 3
    assert [orjson.loads(x) for x in lines] == findings(sample_run())


def test_a_review_account_later_flagged_is_an_update_with_raised_severity(tmp_path: Path) -> None:
    first = findings(sample_run())
    run = sample_run(_written(first, tmp_path), hours=2)
    run = replace(
        run,
        accounts=tuple(
            replace(a, flagged=True, flagged_by="account", first_flagged_at=T0, score=0.91)
            if a.account_id == "maybe"
            else a
            for a in run.accounts
        ),
    )
    [after] = [f for f in findings(run) if f["finding_info"]["uid"] == account_uid("maybe")]
    assert (after["activity_id"], after["severity_id"], after["is_alert"]) == (2, 4, True)
    assert "flagged" in after["finding_info"]["types"]
