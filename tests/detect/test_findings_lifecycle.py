"""detect's findings across runs: a re-run updates its findings instead of duplicating them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from distillguard.cli.main import main
from distillguard.detect.run import detect
from distillguard.detect.summary import DetectSummary
from tests.findings.ocsf_validate import ocsf_errors


def _findings(folder: Path) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in (folder / "findings.ocsf.jsonl").read_bytes().splitlines()]


def test_a_rerun_into_the_same_folder_updates_every_finding(
    tiny_lake: Path, tiny_detect: DetectSummary, tmp_path: Path
) -> None:
    out = tmp_path / "detect"
    shutil.copytree(tiny_detect.out, out, ignore=shutil.ignore_patterns("lake", "signals"))
    first = _findings(out)
    assert {f["activity_id"] for f in first} == {1}
    assert {"review", "flagged"} <= {t for f in first for t in f["finding_info"]["types"]}
    detect([tiny_lake], out)
    second = _findings(out)
    assert sorted(f["finding_info"]["uid"] for f in second) == sorted(
        f["finding_info"]["uid"] for f in first
    )
    assert {f["activity_id"] for f in second} == {2}
    for finding in second:
        assert ocsf_errors(finding) == []


def test_previous_findings_can_come_from_another_folder(
    tiny_lake: Path, tiny_detect: DetectSummary, tmp_path: Path
) -> None:
    key = tmp_path / "key"
    key.write_bytes(b"0123456789abcdef0123")
    code = main(
        [
            "detect",
            str(tiny_lake),
            "--out",
            str(tmp_path / "next"),
            "--previous",
            str(tiny_detect.out),
            "--fingerprint-key",
            str(key),
        ]
    )
    assert code == 0
    found = _findings(tmp_path / "next")
    assert {f["activity_id"] for f in found} == {2}
    hashes = [o for f in found for o in f["observables"] if o["type_id"] == 8]
    assert hashes and all(len(o["value"]) == 64 for o in hashes)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--previous", "nowhere"], "no previous findings"),
        (["--fingerprint-key", "nowhere"], "cannot read fingerprint key"),
    ],
)
def test_bad_findings_options_are_one_line_errors(
    tiny_lake: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    assert main(["detect", str(tiny_lake), "--out", str(tmp_path / "o"), *extra]) == 2
    assert message in capsys.readouterr().err
