"""`--json` end-of-run summaries of detect and evaluate, for scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from distillguard.cli import detect_cmd
from distillguard.cli.detect_cmd import detect_json
from distillguard.cli.main import main
from distillguard.detect.run import _has_signups, detect
from distillguard.detect.summary import DetectSummary
from distillguard.simulate import SimSummary
from tests.conftest import write_jsonl
from tests.samples import exchange_row


def test_detect_json_counts_match_the_run(tiny_detect: DetectSummary) -> None:
    data = json.loads(json.dumps(detect_json(tiny_detect)))
    assert data["exchanges"] == tiny_detect.exchanges
    assert (data["quarantined"], data["quarantine"]) == (None, None)  # a lake, not logs
    assert data["flagged_accounts"] == sum(a.flagged for a in tiny_detect.accounts)
    flagged = {c.cluster_id for c in tiny_detect.clusters if c.flagged}
    assert {c["cluster_id"] for c in data["flagged_clusters"]} == flagged
    scores = [c["score"] for c in data["flagged_clusters"]]
    assert scores == sorted(scores, reverse=True)
    assert data["flagged_clusters"]  # else the loop below checks nothing
    assert data["accounts_table"] is True and "no payment, sign-up" not in tiny_detect.line()
    for cluster in data["flagged_clusters"]:  # ISO 8601 with its offset, as scripts parse it
        assert datetime.fromisoformat(cluster["first_flagged_at"]).utcoffset() == timedelta(0)
        assert "T" in cluster["first_flagged_at"]


def test_evaluate_json_is_the_metrics_file(
    tiny_detect: DetectSummary, tiny_sim: SimSummary, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate", str(tiny_detect.out), "--labels", str(tiny_sim.files[2]), "--json"]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tiny_detect.out / "metrics.json").read_text())
    assert 0.0 <= printed["recall"] <= 1.0 and printed["campaigns"]


def test_detect_json_from_the_command_line_and_its_tick_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`detect --json` on a small log; the replay's progress hook is called once per tick,
    ending at the total (what the command's second progress bar shows)."""
    rows = [exchange_row(i) for i in range(40)]
    source = write_jsonl(tmp_path / "in.jsonl", [*rows, b"{not json"])
    calls: list[tuple[int, int]] = []

    def recording(*args: Any, on_tick: Callable[[int, int], None], **kwargs: Any) -> Any:
        def both(done: int, total: int) -> None:
            calls.append((done, total))
            on_tick(done, total)

        return detect(*args, on_tick=both, **kwargs)

    monkeypatch.setattr(detect_cmd, "detect", recording)
    assert main(["detect", str(source), "--out", str(tmp_path / "out"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["exchanges"], data["accounts"]) == (40, 17)
    assert data["accounts_table"] is False  # logs without --accounts: said, not guessed
    quarantine = tmp_path / "out" / "lake" / "quarantine.jsonl"
    assert (data["quarantined"], data["quarantine"]) == (1, str(quarantine))
    assert calls and calls[-1][0] == calls[-1][1]
    assert [done for done, _ in calls] == list(range(1, len(calls) + 1))


def test_evaluate_into_a_closed_pipe_ends_quietly(
    tiny_detect: DetectSummary, tiny_sim: SimSummary
) -> None:
    """`distillguard evaluate ... | head -1`, with the reader gone before the first line."""
    argv = ["evaluate", str(tiny_detect.out), "--labels", str(tiny_sim.files[2])]
    child = subprocess.Popen(
        [sys.executable, "-m", "distillguard.cli.main", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    stderr = child.stderr.read().decode()
    child.stderr.close()
    assert (child.wait(), stderr) == (141, "")


def test_detect_without_an_accounts_table_says_what_went_unused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [exchange_row(i) for i in range(40)]
    source = write_jsonl(tmp_path / "in.jsonl", [*rows, b"{not json"])
    assert main(["detect", str(source), "--out", str(tmp_path / "out")]) == 0
    printed = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "no payment, sign-up or tier data (no accounts table" in printed


# (accounts table rows, whether detect counts it as payment, sign-up or tier data)
SIGNUP_TABLES = [
    ([], False),
    ([("a1", "org-1", None)], False),  # what LiteLLM's adapter declares: an org id only
    ([("a1", "org-1", None), ("a2", None, "pro")], True),
]


@pytest.mark.parametrize(("rows", "said"), SIGNUP_TABLES)
def test_an_accounts_table_without_sign_up_data_counts_as_none(
    rows: list[tuple[str, str | None, str | None]], said: bool
) -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE accounts (account_id VARCHAR, org_id VARCHAR, tier VARCHAR,"
        " payment_fingerprint VARCHAR, signup_ip VARCHAR, created_at TIMESTAMPTZ)"
    )
    for row in rows:
        con.execute("INSERT INTO accounts (account_id, org_id, tier) VALUES (?, ?, ?)", row)
    assert _has_signups(con, "accounts") is said
    assert _has_signups(con, None) is False
