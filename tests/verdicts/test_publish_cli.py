"""`verdicts publish` through the policy, and the analyst's set/clear/list, via the CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distillguard.cli.main import main
from distillguard.detect.allowlist import AllowEntry, append_allowlist
from distillguard.detect.outputs import ACCOUNT_SCHEMA, CLUSTER_SCHEMA
from distillguard.errors import ConfigError
from distillguard.verdicts.continuity import stale
from distillguard.verdicts.model import Source, Verdict
from distillguard.verdicts.policy import default_policy_text, load_policy, parse_policy
from distillguard.verdicts.publish import DETECT_TABLES, detector_verdicts, publish
from distillguard.verdicts.store import open_store
from tests.redis_server import redis_server

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
        "account:hi": "degrade",  # on its own evidence: served, less useful for training
        "account:mid": "degrade",
        "account:lo": "reverify",
        "account:rev": "throttle",
    }
    assert verdicts["account:m2"].cluster == "c1"
    assert verdicts["account:hi"].evidence.endswith("accounts.parquet#hi")
    assert all(v.source == "detector" and v.expires for v in verdicts.values())


def test_evidence_names_the_run_by_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Published from ../detect, the evidence read '../detect/accounts.parquet#...' in the
    store and its audit log, which a gateway or auditor elsewhere cannot follow."""
    out = detect_out(tmp_path)
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    assert main(["verdicts", "publish", "..", "--state", "v.jsonl"]) == 0
    evidence = {v.evidence.split("#")[0] for v in open_store("v.jsonl").list()}
    assert evidence == {f"{out}/accounts.parquet", f"{out}/clusters.parquet"}


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
    assert got is not None and got.action == "degrade"
    assert main(["verdicts", "list", "--state", state]) == 0
    listed = capsys.readouterr().out
    assert "account:rev" in listed and "expires (UTC)" in listed  # --json's zone, said
    assert len(store.audit()) == 9


def test_verdicts_list_never_cuts_an_account_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Piped, the table was 80 columns wide and every subject read `account:ac…`."""
    state = str(tmp_path / "v.jsonl")
    account = "acct_006a912d8e4faa37_with_a_long_id"
    assert main(["verdicts", "set", account, "--action", "block_account", "--reason",
                 "a long reason " * 8, "--state", state]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["verdicts", "list", "--state", state]) == 0
    assert f"account:{account}" in capsys.readouterr().out


def _in_force(state: str, account: str) -> str | None:
    got = open_store(state).get(f"account:{account}")
    return got.action if got else None


def test_a_cluster_verdict_reaches_its_members_and_clearing_it_serves_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`verdicts set --cluster` said it blocked a cluster whose members the store did not
    know (it reached nobody) without a word; `verdicts clear --cluster` left every member
    blocked by its own detector verdict."""
    out, state = detect_out(tmp_path), str(tmp_path / "v.jsonl")
    block = ["--action", "block_cluster", "--reason", "confirmed", "--state", state]
    assert main(["verdicts", "set", "c9", "--cluster", *block]) == 0
    said = capsys.readouterr()
    assert "c9 -> block_cluster" in said.out and "reaches nobody yet" in said.err
    assert main(["verdicts", "publish", str(out), "--state", state]) == 0
    assert main(["verdicts", "set", "c1", "--cluster", *block]) == 0
    said = capsys.readouterr()
    assert "over the 2 member(s) the store knows" in said.out and not said.err
    assert (
        main(["verdicts", "clear", "c1", "--cluster", "--source", "analyst", "--state", state]) == 0
    )
    assert "cleared 1 verdict(s) of cluster c1\n" in capsys.readouterr().out
    assert (_in_force(state, "m1"), _in_force(state, "m2")) == ("block_cluster", "block_cluster")
    # m1's detector verdict sits under an analyst's for a day: it is cleared all the same
    monitor = ["--action", "monitor", "--reason", "call", "--ttl", "24h", "--state", state]
    assert main(["verdicts", "set", "m1", *monitor]) == 0
    assert main(["verdicts", "clear", "c1", "--cluster", "--state", state]) == 0
    cleared = capsys.readouterr().out
    assert "cleared 1 verdict(s) of cluster c1 and the verdicts naming it of 2 member(s)" in cleared
    assert main(["verdicts", "clear", "m1", "--source", "analyst", "--state", state]) == 0
    assert (_in_force(state, "m1"), _in_force(state, "m2")) == (None, None)
    assert _in_force(state, "hi") == "degrade"  # not a member: untouched


def test_a_cluster_no_verdict_names_is_reached_through_its_detect_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing published: the store knows no member of c1 until --findings names them."""
    out, state = detect_out(tmp_path), str(tmp_path / "v.jsonl")
    block = ["--action", "block_cluster", "--reason", "case 9", "--state", state]
    assert main(["verdicts", "set", "c1", "--cluster", "--findings", str(out), *block]) == 0
    said = capsys.readouterr()
    assert "over the 2 member(s) the store knows" in said.out and not said.err
    m1 = open_store(state).get("account:m1")
    assert m1 is not None and (m1.action, m1.source, m1.cluster) == (
        "block_cluster",
        "analyst",
        "c1",
    )
    assert main(["verdicts", "clear", "c1", "--cluster", "--state", state]) == 0
    assert "verdicts naming it of 2 member(s)" in capsys.readouterr().out
    assert (_in_force(state, "m1"), _in_force(state, "m2")) == (None, None)


def test_block_cluster_on_an_account_says_it_reaches_that_account_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(tmp_path / "v.jsonl")
    block = ["--action", "block_cluster", "--reason", "x", "--state", state]
    assert main(["verdicts", "set", "acct_1", *block]) == 0
    assert "blocks that account only" in capsys.readouterr().err
    assert (
        main(
            [
                "verdicts",
                "set",
                "acct_1",
                "--action",
                "block_account",
                "--reason",
                "x",
                "--state",
                state,
            ]
        )
        == 0
    )
    assert "blocks that account only" not in capsys.readouterr().err


def test_a_new_verdict_store_says_it_is_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "verdicts.jsonl"
    argv = ["verdicts", "set", "a", "--action", "monitor", "--reason", "x", "--state", str(state)]
    assert main(argv) == 0
    assert f"verdict store {state}: a new, empty store (no file was there)" in caplog.text
    assert state.stat().st_mode & 0o777 == 0o600  # account ids and reasons: owner only
    caplog.clear()
    assert main(argv) == 0
    assert "a new, empty store" not in caplog.text


def test_an_account_the_store_never_named_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(tmp_path / "v.jsonl")
    set_ = ["verdicts", "set", "acct_typo", "--action", "monitor", "--reason", "x"]
    assert main([*set_, "--state", state]) == 0
    assert "held no verdict on account acct_typo" in capsys.readouterr().err
    assert main([*set_, "--state", state]) == 0  # known now
    assert capsys.readouterr().err == ""
    assert main(["verdicts", "clear", "acct_other", "--state", state]) == 0
    assert "cleared 0 verdict(s) of account acct_other (the store holds none" in (
        capsys.readouterr().out
    )


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
        (["verdicts", "set", "a", "--action", "degrade", "--reason", " "], "--reason is empty"),
        (  # argparse takes "-5m" for an option: say how to give it
            ["verdicts", "set", "a", "--action", "monitor", "--reason", "x", "--ttl", "-5m"],
            "a value that starts with '-' is written --ttl=VALUE",
        ),
        (
            ["verdicts", "set", "a", "--action", "monitor", "--reason", "x", "--ttl=-5m"],
            "bad duration '-5m'; use a positive number",
        ),
        (
            ["verdicts", "set", "a", "--action", "degrade", "--reason", "x", "--findings", "."],
            "--findings goes with --cluster",
        ),
        (
            [
                "verdicts",
                "set",
                "c",
                "--cluster",
                "--action",
                "degrade",
                "--reason",
                "x",
                "--findings",
                "/nonexistent",
            ],
            "is not a detect output",
        ),
        (["verdicts", "list", "--state", "sqlite://x"], "valid: memory"),
        (
            ["verdicts", "set", " acct_1", "--action", "monitor", "--reason", "x"],
            "has spaces around it: did you mean 'acct_1'?",
        ),
        (
            ["verdicts", "set", "a1\nb2", "--action", "monitor", "--reason", "x"],
            "control character",
        ),
        (["verdicts", "clear", "acct_1 "], "has spaces around it"),
        (
            ["verdicts", "set", "a", "--action", "degrade", "--reason", "x", "--state", "memory"],
            "--state memory keeps nothing",
        ),
        (["verdicts", "clear", "a", "--state", "memory"], "--state memory keeps nothing"),
        (["verdicts", "publish", ".", "--state", "memory"], "--state memory keeps nothing"),
        (  # a mistyped folder made itself: the block went where no gateway looked
            [
                *["verdicts", "set", "a", "--action", "block_account", "--reason", "x"],
                *["--state", "/typo-dir/v.jsonl"],
            ],
            "its folder /typo-dir does not exist (a typo?): create it first",
        ),
        (
            ["verdicts", "publish", "DETECTED", "--state", "/typo-dir/sub/v.jsonl"],
            "its folder /typo-dir/sub does not exist",
        ),
        (
            ["console", "add-user", "vic", "--role", "viewer", "--state", "/typo-dir/v.jsonl"],
            "its folder /typo-dir does not exist",
        ),
        (["verdicts", "publish", ".", "--lake", "/nonexistent"], "/nonexistent is not a lake"),
        (["verdicts", "publish", "/nonexistent"], "not a detect output"),
        (["verdicts", "publish", ".", "--policy", "/nonexistent.yaml"], "cannot read policy"),
    ],
)
def test_cli_mistakes_are_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    detected = tmp_path / "detected"  # what publish checks a detect output holds
    detected.mkdir()
    for name in DETECT_TABLES:
        (detected / f"{name}.parquet").touch()
    argv = [str(detected) if a == "DETECTED" else a for a in argv]
    state = tmp_path / "v.jsonl"
    assert main([*argv, *([] if "--state" in argv else ["--state", str(state)])]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    if argv[:2] == ["verdicts", "publish"]:
        assert not state.exists()  # a failed run made no store


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
        (  # scores run 0 to 1: the rule would never fire
            "publish: {rules: []}\n"
            "request: {classifiers: [{signal: x, min: 9, action: monitor}]}\n",
            "outside 0 to 1",
        ),
        ("publish: {rules: []}\nmode: enforce\nmode: monitor\n", "'mode' is given twice"),
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
    assert actions["hi"] == "reverify"  # however high its score: the tier rule comes first
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


DAY = timedelta(days=1)
# (case, verdict in force: action, cluster, age, ttl; this run's action and cluster;
# a member of a flagged cluster; renewed)
FRESH, AGED, OLD = 0 * DAY, 4 * DAY, 90 * DAY
WEEK = 7 * DAY
STALE_CASES = [
    ("same, fresh", ("degrade", None, DAY, WEEK), ("degrade", None), False, False),
    ("same, past half its life", ("degrade", None, AGED, WEEK), ("degrade", None), False, True),
    ("another action", ("degrade", None, FRESH, WEEK), ("block_account", None), False, True),
    ("member, renamed", ("degrade", "c-a", FRESH, WEEK), ("degrade", "c-b"), True, True),
    ("member, left its cluster", ("degrade", "c-a", FRESH, WEEK), ("degrade", None), True, True),
    (
        "not a member, group shifted",
        ("degrade", "c-a", FRESH, WEEK),
        ("degrade", "c-b"),
        False,
        False,
    ),
    ("no expiry", ("degrade", None, OLD, None), ("degrade", None), False, False),
]


@pytest.mark.parametrize(("case", "current", "fresh", "member", "renewed"), STALE_CASES)
def test_a_detector_verdict_gives_way_when_stale(
    case: str,
    current: tuple[str, str | None, timedelta, timedelta | None],
    fresh: tuple[str, str | None],
    member: bool,
    renewed: bool,
) -> None:
    action, cluster, age, ttl = current
    held = Verdict("a", action, "x", "detector", WHEN - age, cluster=cluster).with_expiry(ttl)
    new = Verdict("a", fresh[0], "x", "detector", WHEN, cluster=fresh[1]).with_expiry(7 * DAY)
    assert stale(held, new, member=member) is renewed, case


def test_publish_renews_a_renamed_cluster_and_an_ageing_verdict_only(tmp_path: Path) -> None:
    """Publishing the same run again changes nothing; a member whose verdict names an older
    cluster id, and a verdict past half its life, are set again with their action."""
    out, store, policy = detect_out(tmp_path), open_store("memory"), load_policy()
    assert publish(out, store, policy).published == 7
    again = publish(out, store, policy)
    assert (again.published, again.unchanged) == (0, 7)
    m1 = store.get("account:m1")
    hi = store.get("account:hi")
    assert m1 is not None and hi is not None
    store.set(replace(m1, cluster="c-older", created=m1.created - DAY))
    aged = replace(hi, created=hi.created - 4 * DAY, expires=hi.created + 3 * DAY)
    store.set(aged)
    renewed = publish(out, store, policy)
    assert (renewed.published, renewed.renewed, renewed.unchanged) == (2, 2, 5)
    assert "2 published (2 renewed), 5 unchanged" in renewed.line()
    m1, hi = store.get("account:m1"), store.get("account:hi")
    assert m1 is not None and m1.cluster == "c1"
    assert hi is not None and hi.created > aged.created and hi.expires == hi.created + 7 * DAY


def test_publish_retires_only_cluster_verdicts_no_member_names(tmp_path: Path) -> None:
    """c-old: renamed, no member names it any more, retired. c-quiet: no longer flagged
    but a member's verdict still names it, kept. c-analyst: an analyst's, kept."""
    out, store = detect_out(tmp_path), open_store("memory")
    old = datetime.now(UTC) - DAY
    held: list[tuple[str, Source]] = [
        ("c-old", "detector"),
        ("c-quiet", "detector"),
        ("c-analyst", "analyst"),
    ]
    for cid, source in held:
        store.set(Verdict(cid, "block_cluster", "x", source, old, kind="cluster"))
    store.set(Verdict("q1", "block_cluster", "x", "detector", old, cluster="c-quiet"))
    summary = publish(out, store, load_policy())
    assert summary.retired == 1 and "1 cluster verdict(s) retired" in summary.line()
    clusters = {v.subject: v.source for v in store.list() if v.kind == "cluster"}
    assert clusters == {"c1": "detector", "c-quiet": "detector", "c-analyst": "analyst"}
    assert publish(out, store, load_policy()).retired == 0


@pytest.mark.parametrize(("members", "carried"), [(("m1", "m2"), True), (("m1", "x", "y"), False)])
def test_an_analysts_cluster_verdict_follows_its_renamed_cluster(
    tmp_path: Path, members: tuple[str, ...], carried: bool
) -> None:
    """An analyst cleared c-old (monitor); its members m1, m2 are now flagged as c1. c1
    holds all of c-old's members: the clearance is carried to c1, and the gateway's lookup
    for m1 finds it. Held by m1 only of three, c-old's clearance stays behind."""
    out, store = detect_out(tmp_path), open_store("memory")
    then = datetime.now(UTC) - DAY
    for account in members:
        store.set(Verdict(account, "block_cluster", "x", "detector", then, cluster="c-old"))
    store.set(Verdict("c-old", "monitor", "a CI fleet", "analyst", then, kind="cluster"))
    summary = publish(out, store, load_policy())
    assert summary.carried == int(carried)
    cluster = store.get("cluster:c1")
    assert cluster is not None
    assert (cluster.source, cluster.action) == (
        ("analyst", "monitor") if carried else ("detector", "block_cluster")
    )
    if carried:
        assert "carried from cluster c-old" in cluster.reason
        assert "analyst cluster verdict(s) carried" in summary.line()
    m1 = store.get("account:m1")
    assert m1 is not None and m1.cluster == "c1"


def grown_out(tmp_path: Path, n: int) -> Path:
    """A detect output whose one flagged cluster, c1, holds accounts m1..mN."""
    members = [account(f"m{i}", 0.95, True, cluster="c1") for i in range(1, n + 1)]
    cluster = {"cluster_id": "c1", "n_accounts": n, "n_exchanges": 40 * n, "score": 0.96}
    cluster |= {"flagged": True, "first_flagged_at": WHEN, "capabilities": "", "reasons": "x"}
    pq.write_table(
        pa.Table.from_pylist(members, schema=ACCOUNT_SCHEMA), tmp_path / "accounts.parquet"
    )
    pq.write_table(
        pa.Table.from_pylist([cluster], schema=CLUSTER_SCHEMA), tmp_path / "clusters.parquet"
    )
    return tmp_path


# (case, accounts that named c-old, the analyst's verdict on it, carried to c1 of m1..m5)
GROWN = [
    ("a clearance, its accounts a minority of the new cluster", 2, "monitor", False),
    ("a clearance, its accounts most of the new cluster", 3, "monitor", True),
    ("a block, however many joined", 2, "block_cluster", True),
]


@pytest.mark.parametrize(("case", "held", "action", "carried"), GROWN, ids=[g[0] for g in GROWN])
def test_a_clearance_is_not_carried_to_a_cluster_of_mostly_new_accounts(
    tmp_path: Path, case: str, held: int, action: str, carried: bool
) -> None:
    """Accounts that link into a cleared cluster were never reviewed: a verdict milder
    than the detector's follows a renamed cluster only when the accounts the analyst
    judged are at least half of it; a block follows it however it grew."""
    store, then = open_store("memory"), datetime.now(UTC) - DAY
    for i in range(1, held + 1):
        store.set(Verdict(f"m{i}", "block_cluster", "x", "detector", then, cluster="c-old"))
    store.set(Verdict("c-old", action, "judged", "analyst", then, kind="cluster"))
    summary = publish(grown_out(tmp_path, 5), store, load_policy())
    cluster = store.get("cluster:c1")
    assert cluster is not None
    assert (summary.carried, cluster.source) == (int(carried), "analyst" if carried else "detector")


def _evidence(out: Path, rows: dict[tuple[str, str], list[str]]) -> None:
    lines = [
        json.dumps({"kind": k, "id": i, "evidence": [{"code": c} for c in codes]})
        for (k, i), codes in rows.items()
    ]
    (out / "evidence.jsonl").write_text("\n".join(lines) + "\n")


# (case, the dismissals: account -> codes, accounts expected without a verdict)
DISMISSALS = [
    ("none", {}, set()),
    ("an account for its evidence", {"hi": ["volume"]}, {"hi"}),
    ("an account for less than its evidence", {"mid": ["volume"]}, set()),
    ("one member: the cluster stays", {"m1": ["volume", "cluster.shared_card"]}, {"m1"}),
    (
        "every member: the cluster goes too",
        {"m1": ["volume", "cluster.shared_card"], "m2": ["cluster.shared_card"]},
        {"m1", "m2", "c1"},
    ),
]


@pytest.mark.parametrize("case", DISMISSALS, ids=[c[0] for c in DISMISSALS])
def test_publish_holds_back_what_the_consoles_dismissals_cover(
    tmp_path: Path, case: tuple[str, dict[str, list[str]], set[str]]
) -> None:
    """A run made before a dismissal set the dismissed account's verdict again; with the
    console's allowlist it does not, unless the run flags it for evidence not dismissed."""
    _, dismissed, expected = case
    out = detect_out(tmp_path)
    _evidence(out, {("account", "hi"): ["volume"], ("account", "mid"): ["volume", "burst"],
                    ("account", "m1"): ["volume"], ("cluster", "c1"): ["shared_card"]})  # fmt: skip
    allowlist = tmp_path / "allowlist.jsonl"
    allowlist.write_text("")
    for account, codes in dismissed.items():
        append_allowlist(allowlist, AllowEntry(account, "fine", frozenset(codes), "alice", WHEN))
    state = str(tmp_path / "v.jsonl")
    argv = ["verdicts", "publish", str(out), "--state", state, "--allowlist", str(allowlist)]
    assert main(argv) == 0
    subjects = {v.subject for v in open_store(state).list()}
    assert {"hi", "mid", "lo", "rev", "m1", "m2", "c1"} - subjects == expected


def test_a_redis_that_wants_a_password_says_how_to_give_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'verdicts list' printed Redis's own 'HELLO must be called with the client already
    authenticated, otherwise the HELLO AUTH <user> <pass> option can be used'."""
    with redis_server(tmp_path, password="s3cret-pass") as server:
        for query in ("", "?protocol=2"):  # RESP3's HELLO refusal, RESP2's NOAUTH
            url = f"redis://127.0.0.1:{server.port}/0{query}"
            assert main(["verdicts", "list", "--state", url]) == 2
            err = capsys.readouterr().err
            assert "asks for a password and none was given" in err and "redis://:PASSWORD@" in err
            assert err.count("\n") == 1


@pytest.mark.parametrize(("columns", "widest"), [("80", 80), ("", 200), ("wide", 200)])
def test_list_piped_keeps_to_columns_where_given(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    columns: str,
    widest: int,
) -> None:
    """Piped, the table was 200 columns wide even with COLUMNS=80."""
    state = str(tmp_path / "v.jsonl")
    argv = ["verdicts", "set", "acct_1", "--action", "degrade", "--reason", "case " * 30]
    assert main([*argv, "--state", state]) == 0
    monkeypatch.setenv("COLUMNS", columns)
    capsys.readouterr()
    assert main(["verdicts", "list", "--state", state]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= widest and "acct_1" in "".join(lines)


def test_the_built_in_policy_is_printed_to_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its only address was a path in the repository, which an installed copy lacks."""
    assert main(["verdicts", "policy"]) == 0
    copy = tmp_path / "policy.yaml"
    copy.write_text(capsys.readouterr().out)
    assert copy.read_text() == default_policy_text() and load_policy(copy) == load_policy()
