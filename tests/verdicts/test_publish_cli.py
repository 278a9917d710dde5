"""`verdicts publish` through the policy, and the analyst's set/clear/list, via the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distillguard.cli.main import main
from distillguard.detect.outputs import ACCOUNT_SCHEMA, CLUSTER_SCHEMA
from distillguard.errors import ConfigError
from distillguard.verdicts.policy import load_policy, parse_policy
from distillguard.verdicts.publish import detector_verdicts
from distillguard.verdicts.store import open_store

WHEN = datetime(2026, 2, 10, 12, tzinfo=UTC)


def account(
    aid: str, score: float, flagged: bool, review: bool = False, cluster: Any = None
) -> dict[str, Any]:
    return {
        "account_id": aid,
        "score": score,
        "flagged": flagged,
        "flagged_by": None,
        "cluster_id": cluster,
        "first_flagged_at": WHEN if flagged else None,
        "review": review,
        "first_review_at": WHEN if review else None,
        "reasons": f"why {aid}",
    }


def detect_out(tmp_path: Path) -> Path:
    accounts = [
        account("hi", 0.99, True),
        account("mid", 0.92, True),
        account("lo", 0.8, True),
        account("rev", 0.7, False, review=True),
        account("ok", 0.1, False),
        account("m1", 0.95, True, cluster="c1"),
        account("m2", 0.5, False, cluster="c1"),
    ]
    clusters = [
        {
            "cluster_id": "c1",
            "n_accounts": 2,
            "n_exchanges": 40,
            "score": 0.96,
            "flagged": True,
            "first_flagged_at": WHEN,
            "capabilities": "",
            "reasons": "shared",
        }
    ]
    pq.write_table(
        pa.Table.from_pylist(accounts, schema=ACCOUNT_SCHEMA), tmp_path / "accounts.parquet"
    )
    pq.write_table(
        pa.Table.from_pylist(clusters, schema=CLUSTER_SCHEMA), tmp_path / "clusters.parquet"
    )
    return tmp_path


def test_default_policy_maps_tiers_and_scores_to_the_ladder(tmp_path: Path) -> None:
    verdicts = {v.key: v for v in detector_verdicts(detect_out(tmp_path), load_policy())}
    assert {k: v.action for k, v in verdicts.items()} == {
        "cluster:c1": "block_cluster",
        "account:m1": "block_cluster",
        "account:m2": "block_cluster",
        "account:hi": "block_account",
        "account:mid": "degrade",
        "account:lo": "reverify",
        "account:rev": "throttle",
    }
    assert verdicts["account:m2"].cluster == "c1"
    assert verdicts["account:hi"].evidence.endswith("accounts.parquet#hi")
    assert all(v.source == "detector" and v.expires for v in verdicts.values())


def test_cli_publish_set_clear_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, state = detect_out(tmp_path), str(tmp_path / "v.jsonl")
    assert main(["verdicts", "publish", str(out), "--state", state]) == 0
    assert "7 published" in capsys.readouterr().out
    assert main(["verdicts", "publish", str(out), "--state", state]) == 0
    assert "0 published, 7 unchanged" in capsys.readouterr().out
    assert (
        main(
            [
                "verdicts",
                "set",
                "hi",
                "--action",
                "monitor",
                "--reason",
                "customer ok",
                "--ttl",
                "24h",
                "--state",
                state,
            ]
        )
        == 0
    )
    store = open_store(state)
    got = store.get("account:hi")
    assert got is not None and (got.action, got.source) == ("monitor", "analyst")
    assert main(["verdicts", "clear", "hi", "--source", "analyst", "--state", state]) == 0
    got = store.get("account:hi")
    assert got is not None and got.action == "block_account"
    assert main(["verdicts", "list", "--state", state]) == 0
    assert "account:rev" in capsys.readouterr().out
    assert len(store.audit()) == 9


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["verdicts", "set", "a", "--action", "degrade", "--reason", "x", "--ttl", "soon"],
            "bad duration",
        ),
        (
            ["verdicts", "set", "a", "--action", "degrade", "--reason", "x", "--ttl", "9999999d"],
            "too long",
        ),
        (["verdicts", "list", "--state", "sqlite://x"], "valid: memory"),
        (["verdicts", "publish", "/nonexistent"], "not a detect output"),
        (["verdicts", "publish", ".", "--policy", "/nonexistent.yaml"], "cannot read policy"),
    ],
)
def test_cli_mistakes_are_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert (
        main([*argv, *([] if "--state" in argv else ["--state", str(tmp_path / "v.jsonl")])]) == 2
    )
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("publish: {rules: []}\nmode: loud\n", "mode"),
        ("publish: {rules: [{action: nuke}]}\n", "unknown action 'nuke'"),
        ("publish: {rules: [], ttl: forever}\n", "bad duration"),
        ("publish: {rules: [], ttl: 99999999999d}\n", "too long"),
        ("publish: {rules: []}\nextra: 1\n", "unknown field"),
        (
            "publish: {rules: [{action: degrade, kind: cluster, signup_tiers: [edu]}]}\n",
            "account rules only",
        ),
        ("publish: [\n", "not valid YAML"),
    ],
)
def test_bad_policies_raise_config_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_policy(text)


def test_command_line_mode_and_fail_override_the_policy() -> None:
    policy = load_policy().overridden(mode="enforce", fail="closed")
    assert (policy.mode, policy.fail) == ("enforce", "closed")
    assert load_policy().overridden().mode == "monitor"
    with pytest.raises(ConfigError, match="fail mode"):
        load_policy().overridden(fail="sideways")


def test_education_research_and_startup_signups_are_reverified_first(tmp_path: Path) -> None:
    from distillguard.schema.exchange_log import ACCOUNTS_SCHEMA

    lake = tmp_path / "elsewhere"  # not DETECT_OUT/lake, where detect keeps one it made
    (lake / "accounts").mkdir(parents=True)
    rows = [{"account_id": "mid", "tier": "education"}, {"account_id": "hi", "tier": "research"}]
    table = pa.Table.from_pylist(rows, schema=ACCOUNTS_SCHEMA)
    pq.write_table(table, lake / "accounts" / "accounts.parquet")
    (tmp_path / "out").mkdir()
    out = detect_out(tmp_path / "out")
    actions = {v.subject: v.action for v in detector_verdicts(out, load_policy(), lake)}
    assert actions["mid"] == "reverify"  # degrade without the tier
    assert actions["hi"] == "block_account"  # a score this high is blocked whatever the tier
    assert {v.subject: v.action for v in detector_verdicts(out, load_policy())}["mid"] == "degrade"


def test_list_marks_cut_reasons_and_json_prints_them_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(tmp_path / "v.jsonl")
    reason = "case 118: " + "the account swept the whole benchmark " * 3 + "END"
    argv = ["verdicts", "set", "acct_1", "--action", "degrade", "--reason", reason]
    assert main([*argv, "--state", state]) == 0
    capsys.readouterr()
    assert main(["verdicts", "list", "--state", state]) == 0
    table = capsys.readouterr().out
    assert "…" in table and "END" not in table
    assert main(["verdicts", "list", "--state", state, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["subject"], r["reason"]) for r in rows] == [("acct_1", reason)]
