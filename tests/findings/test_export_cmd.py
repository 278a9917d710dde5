from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from distillguard.cli.main import main
from distillguard.signals.lexicon import CLASSIFIERS


def test_export_sigma_writes_a_rule_per_classifier_and_the_view(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "sigma", "--out", str(tmp_path / "rules")]) == 0
    assert "4 Sigma rules" in capsys.readouterr().out
    rules = sorted((tmp_path / "rules").glob("*.yml"))
    assert [p.stem for p in rules] == sorted(f"distillguard_{c.name}" for c in CLASSIFIERS)
    for path in rules:
        rule = yaml.safe_load(path.read_text())
        assert rule["logsource"]["product"] == "distillguard"
    view = (tmp_path / "rules" / "exchange_log_view.sql").read_text()
    assert "AS prompt" in view and "LAKE/exchanges" in view


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "stix", "--out", "x"], "invalid choice: 'stix'"),
        (["export", "sigma"], "--out"),
        (["export", "sigma", "--out", "{file}"], "is a file: --out names the folder"),
    ],
)
def test_export_mistakes_are_one_line_errors(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    argv = [a.replace("{file}", str(tmp_path / "file")) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
