"""`distillguard gateway` and `distillguard watch` from the command line."""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
import yaml

from distillguard.cli.gateway_cmd import check_identity
from distillguard.cli.main import main
from distillguard.detect.allowlist import AllowEntry, append_allowlist
from distillguard.detect.run import detect
from distillguard.errors import UserError
from distillguard.gateway.actions.registry import build_action
from distillguard.gateway.exchange_log import ExchangeLog
from distillguard.gateway.identity import Identity
from distillguard.verdicts import watch
from distillguard.verdicts.policy import default_policy_text, load_policy
from distillguard.verdicts.store import StoreFileError, check_answers, open_store
from distillguard.verdicts.watch import Watcher
from tests.fake_upstream import FakeUpstream
from tests.gateway.client import body
from tests.redis_server import free_port, redis_server

GATEWAY = ["gateway", "--upstream", "http://x"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["gateway", "--upstream", "ftp://x"], "bad --upstream"),
        # the SDKs' base URL: every call would go to /v1/v1/...
        (["gateway", "--upstream", "https://api.openai.com/v1/"], "root, https://api.openai.com"),
        (["gateway", "--upstream", "http://x", "--listen", "nowhere"], "bad --listen"),
        (["gateway", "--upstream", "http://x", "--identity", "cookie:x"], "bad identity"),
        (
            ["gateway", "--upstream", "http://x", "--identity", "keys:/nonexistent"],
            "cannot read key map",
        ),
        (["gateway", "--upstream", "http://x", "--policy", "/nonexistent"], "cannot read policy"),
        (["watch", "lake", "--inbox", "/nonexistent"], "no such inbox"),
        (  # its own store: what it publishes no gateway reads
            ["watch", "lake", "--inbox", "{tmp}", "--state", "memory"],
            "no gateway would read what watch decides",
        ),
        (  # a client could name another account in the header
            ["gateway", "--upstream", "http://x", "--listen", "0.0.0.0:8080"],
            "--trusted-header",
        ),
        (
            [*GATEWAY, "--listen", "gw.example.com:8080", "--identity", "header:x-account"],
            "set the x-account header themselves",
        ),
        (["gateway", "--upstream", "http://"], "bad --upstream"),
        ([*GATEWAY, "--max-body-mb", "-1"], "--max-body-mb: -1 must be above 0"),
        ([*GATEWAY, "--upstream-timeout", "0"], "--upstream-timeout: 0 must be above 0"),
        ([*GATEWAY, "--rotate-rows", "0"], "--rotate-rows: 0 must be at least 1"),
        ([*GATEWAY, "--rotate-seconds", "nan"], "--rotate-seconds: nan must be above 0"),
        ([*GATEWAY, "--identity", "keys:{tmp}/twice.yaml"], "an API key is given twice (line 2)"),
        ([*GATEWAY, "--identity", "keys:{tmp}/latin1.yaml"], "is not UTF-8 text"),
        ([*GATEWAY, "--identity", "keys:{tmp}/number.yaml"], "entry 2 maps to 42, not an"),
        ([*GATEWAY, "--identity", "keys:{tmp}/int-key.yaml"], "entry 1's API key is not text"),
        ([*GATEWAY, "--policy", "{tmp}/latin1.yaml"], "is not UTF-8 text"),
        ([*GATEWAY, "--policy", "{tmp}/twice.yaml"], "is given twice"),
        ([*GATEWAY, "--upstream-key", "{tmp}/none.key"], "cannot read upstream key file"),
        ([*GATEWAY, "--upstream-key", "{tmp}/two.key"], "holds more than one key"),
        ([*GATEWAY, "--upstream-key", "{tmp}/short.key"], "shorter than 8"),
        ([*GATEWAY, "--upstream-key", "{tmp}/latin1.key"], "holds bytes past ASCII"),
    ],
)
def test_mistakes_are_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "twice.yaml").write_text("sk-one: alice\nsk-one: bob\n")
    (tmp_path / "latin1.yaml").write_bytes(b"\xff\xfek: a\n")
    (tmp_path / "number.yaml").write_text("sk-one: alice\nsk-two: 42\n")
    (tmp_path / "int-key.yaml").write_text("12345: alice\n")
    (tmp_path / "two.key").write_text("sk-reseller-one\nsk-reseller-two\n")
    (tmp_path / "short.key").write_text("sk-1\n")
    (tmp_path / "latin1.key").write_bytes(b"sk-reseller-abc\xe9\xff123456\n")
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert "sk-reseller" not in err  # a key file's contents are never said


# (an action, settings changed in the default policy) -> the one line the gateway
# refuses to start with.
BAD_SETTINGS: list[tuple[str, dict[str, Any], str]] = [
    ("degrade", {"max_tokens": "lots"}, "actions.degrade.max_tokens must be a positive whole"),
    ("degrade", {"max_tokens": -100}, "actions.degrade.max_tokens must be a positive whole"),
    ("degrade", {"thinking_budget": 1.5}, "actions.degrade.thinking_budget must be"),
    ("degrade", {"tool_trace_chars": float("inf")}, "actions.degrade.tool_trace_chars must"),
    ("throttle", {"per_minute": "many"}, "actions.throttle.per_minute must be a positive"),
    ("throttle", {"burst": 0}, "actions.throttle.burst must be a positive number"),
    ("reverify", {"webhook_timeout_ms": "soon"}, "actions.reverify.webhook_timeout_ms"),
    ("degrade", {"openai_limit": "max_output_tokens"}, "valid names: max_completion_tokens"),
    ("degrade", {"max_tokens": 10**400}, "actions.degrade.max_tokens must be a positive whole"),
    ("degrade", {"thinking_budget": 10}, "actions.degrade.thinking_budget must be at least 1024"),
    ("reverify", {"webhook": "not-a-url"}, "actions.reverify.webhook must be an http://"),
]


# A number YAML reads as a string (PyYAML takes 1e3 for one) still counts as the number.
@pytest.mark.parametrize(("value", "expected"), [("1e3", 1000), ("1024", 1024), (2048.0, 2048)])
def test_action_numbers_yaml_reads_as_strings_count(value: object, expected: int) -> None:
    degrade = build_action("degrade", {"max_tokens": value})
    assert getattr(degrade, "max_tokens", None) == expected


@pytest.mark.parametrize(("action", "settings", "message"), BAD_SETTINGS)
def test_bad_action_settings_are_one_line(
    action: str,
    settings: dict[str, Any],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = yaml.safe_load(default_policy_text())
    doc["actions"][action].update(settings)
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc))
    with socket.socket() as taken:  # a taken port must not hide the policy's mistake
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        argv = [*GATEWAY, "--state", "memory", "--policy", str(policy), "--listen", listen]
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# (identity, listen host, --trusted-header) -> starts (with a note naming the header), or
# refuses: header identity where a client could set the header itself.
IDENTITY_CHECKS = [
    ("header:x-distillguard-account", "127.0.0.1", False, "note"),
    ("header:x-distillguard-account", "::1", False, "note"),
    ("header:x-distillguard-account", "localhost", False, "note"),
    ("header:x-distillguard-account", "127.0.0.1", True, "starts"),
    ("header:x-distillguard-account", "0.0.0.0", False, "refused"),
    ("header:x-distillguard-account", "10.0.0.5", False, "refused"),
    ("header:x-distillguard-account", "0.0.0.0", True, "starts"),
    ("keys", "0.0.0.0", False, "starts"),
    ("keys", "127.0.0.1", False, "starts"),
]


@pytest.mark.parametrize(("identity", "host", "trusted", "outcome"), IDENTITY_CHECKS)
def test_header_identity_off_loopback_needs_a_trusted_front(
    identity: str, host: str, trusted: bool, outcome: str, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text("sk-a: acct-a\n")
    parsed = Identity.parse(f"keys:{keys}" if identity == "keys" else identity)
    if outcome == "refused":
        with pytest.raises(UserError, match="--trusted-header"):
            check_identity(parsed, host, trusted)
        return
    note = check_identity(parsed, host, trusted)
    assert (note is not None) is (outcome == "note")
    assert note is None or ("x-distillguard-account" in note and "--trusted-header" in note)


def test_gateway_command_serves_with_verdicts_from_the_cli(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    state, port = str(tmp_path / "v.jsonl"), free_port()
    assert main(["verdicts", "set", "cli-b", "--action", "block_account", "--reason", "t",
                 "--state", state]) == 0  # fmt: skip
    command = [sys.executable, "-m", "distillguard.cli.main", "gateway", "--upstream", upstream.url,
               "--listen", f"127.0.0.1:{port}", "--state", state, "--mode", "enforce",
               "--log-dir", str(tmp_path / "logs")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/healthz")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        post = [
            httpx.post(url + "/v1/chat/completions", json=body("openai", a),
                       headers={"x-distillguard-account": a})
            for a in ("cli-b", "cli-ok")
        ]  # fmt: skip
        assert main(["verdicts", "clear", "cli-b", "--state", state]) == 0
        again = httpx.post(url + "/v1/chat/completions", json=body("openai", "cli-b"),
                           headers={"x-distillguard-account": "cli-b"})  # fmt: skip
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    assert [r.status_code for r in post] == [403, 200] and again.status_code == 200
    assert "enforce mode, fail open" in output
    assert "leaked" not in output  # a quiet shutdown (DuckDB listed its objects as leaks)
    assert len(list((tmp_path / "logs").glob("*.jsonl"))) == 1  # rotated on shutdown


def test_watch_ticks_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = ExchangeLog(tmp_path / "inbox")
    log.write_one({"request_id": "r1", "ts": "2026-02-02T10:00:00Z", "account_id": "a",
                   "model": "m", "messages": [{"role": "user", "content": "hi"}]})  # fmt: skip
    log.close()
    state = str(tmp_path / "v.jsonl")
    argv = ["watch", str(tmp_path / "lake"), "--inbox", str(tmp_path / "inbox"), "--state", state]
    assert main([*argv, "--ticks", "1"]) == 0
    printed = capsys.readouterr().out
    assert "1 new file(s), 1 exchanges kept, 0 quarantined, 0 accounts flagged" in printed
    assert "no payment, sign-up or tier data" in printed  # no --accounts: said each tick
    assert main([*argv, "--ticks", "1"]) == 0
    assert "nothing new" in capsys.readouterr().out


def test_watch_with_nothing_new_still_fails_on_a_store_that_does_not_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no new log, `watch --ticks 1` from cron said "nothing new" and exited 0 over
    a Redis nobody listens on: the outage was seen only once traffic came."""
    (tmp_path / "inbox").mkdir()
    argv = ["watch", str(tmp_path / "lake"), "--inbox", str(tmp_path / "inbox"), "--ticks", "1"]
    assert main([*argv, "--state", "redis://127.0.0.1:1/0"]) == 1
    printed = capsys.readouterr().out
    assert printed.startswith("watch: nothing new, but ") and "127.0.0.1:1" in printed
    assert main([*argv, "--state", str(tmp_path / "v.jsonl")]) == 0
    assert capsys.readouterr().out == "watch: nothing new\n"


@pytest.mark.parametrize(
    ("userinfo", "database", "says"),
    [
        (":wrong@", 0, "invalid username-password pair"),
        ("", 0, "asks for a password and none was given: put it in the URL"),
        (":s3cret-pass@", 99, "DB index is out of range"),
    ],
)
def test_a_redis_store_that_refuses_the_gateway_stops_it_from_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], userinfo: str, database: int, says: str
) -> None:
    """A mistyped password or database started the gateway, and with fail open every
    blocked account was served. A store that refuses is a mistake in the command: one
    line, exit 2, nothing served; one that is down is an outage, which the fail mode is
    for (below)."""
    with redis_server(tmp_path, password="s3cret-pass") as server:
        state = f"redis://{userinfo}127.0.0.1:{server.port}/{database}"
        argv = ["gateway", "--upstream", "http://127.0.0.1:9", "--state", state,
                "--listen", f"127.0.0.1:{free_port()}", "--mode", "enforce"]  # fmt: skip
        assert main(argv) == 2
    out, err = capsys.readouterr()
    assert says in err and "check its password and database" in err and err.count("\n") == 1
    assert "s3cret-pass" not in err and "enforce mode" not in out


def test_a_redis_store_that_is_down_is_an_outage_not_a_mistake() -> None:
    store = open_store(f"redis://127.0.0.1:{free_port()}/0")
    try:
        said = check_answers(store, "redis://127.0.0.1:1/0")
    finally:
        store.close()
    assert said is not None and "connecting to" in said


def test_watch_reads_an_inbox_kept_inside_its_lake(tmp_path: Path) -> None:
    """`watch /data/dg --inbox /data/dg/inbox`: the inbox's logs are read, the lake's own
    files (parts, quarantine, staging, watch's state) never are."""
    lake = tmp_path / "dg"
    log = ExchangeLog(lake / "inbox")
    log.write_one({"request_id": "r1", "ts": "2026-02-02T10:00:00Z", "account_id": "a",
                   "model": "m", "messages": [{"role": "user", "content": "hi"}]})  # fmt: skip
    log.close()
    watcher = Watcher(lake, lake / "inbox", open_store("memory"), load_policy())
    assert [p.parent.name for p in watcher.new_files()] == ["inbox"]
    summary = watcher.tick()
    assert summary is not None and summary.kept == 1
    assert watcher.new_files() == []  # its parts and quarantine are not new logs


def test_rows_appended_to_an_ingested_file_are_read_at_the_next_tick(tmp_path: Path) -> None:
    """A log shipper's daily file: the rows appended after a tick were never read."""
    lake, inbox = tmp_path / "lake", tmp_path / "inbox"
    inbox.mkdir()
    daily = inbox / "2026-02-02.jsonl"
    row = {"ts": "2026-02-02T10:00:00Z", "account_id": "a", "model": "m",
           "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    daily.write_bytes(orjson.dumps({**row, "request_id": "r1"}) + b"\n")
    watcher = Watcher(lake, inbox, open_store("memory"), load_policy())
    first = watcher.tick()
    assert first is not None and first.kept == 1 and watcher.new_files() == []
    with daily.open("ab") as handle:
        for n in (2, 3):
            handle.write(orjson.dumps({**row, "request_id": f"r{n}"}) + b"\n")
    assert watcher.new_files() == [daily]
    second = watcher.tick()
    assert second is not None and second.kept == 2  # r1 again is a duplicate, not kept
    assert watcher.new_files() == [] and watcher.tick() is None


def test_a_list_of_names_from_before_counts_its_files_as_unchanged(tmp_path: Path) -> None:
    lake, inbox = tmp_path / "lake", tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jsonl").write_text("{}\n")
    lake.mkdir()
    (lake / "watch-ingested.json").write_bytes(orjson.dumps([str((inbox / "a.jsonl").resolve())]))
    watcher = Watcher(lake, inbox, open_store("memory"), load_policy())
    assert watcher.new_files() == []
    with (inbox / "a.jsonl").open("a") as handle:  # rows it gains from here on are read
        handle.write("{}\n")
    assert watcher.new_files() == [inbox / "a.jsonl"]


def test_watch_publishes_a_failed_ticks_verdicts_at_the_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store down while a tick publishes: one line, the loop goes on, and once it is
    back the next tick publishes what the failed one ingested, though no file has landed
    since. (Publishing is made to fail: a one-row log flags nobody, so it would not touch
    the store.)"""
    log = ExchangeLog(tmp_path / "inbox")
    log.write_one({"request_id": "r1", "ts": "2026-02-02T10:00:00Z", "account_id": "a",
                   "model": "m", "messages": [{"role": "user", "content": "hi"}]})  # fmt: skip
    log.close()

    def store_down(*args: object, **kwargs: object) -> None:
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:1.")

    state = str(tmp_path / "v.jsonl")
    argv = ["watch", str(tmp_path / "lake"), "--inbox", str(tmp_path / "inbox"), "--state", state]
    with monkeypatch.context() as patched:
        patched.setattr(watch, "publish", store_down)
        assert main([*argv, "--ticks", "2", "--every", "0.01"]) == 1  # the last tick failed
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all("verdict store: Error 111" in line for line in out)
    assert main([*argv, "--ticks", "2", "--every", "0.01"]) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert "0 new file(s)" in first and "verdicts:" in first and second == "watch: nothing new"


def test_watch_goes_on_when_the_verdict_file_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file store's own OSError (StoreFileError, as tests/gateway/test_faults.py shows
    FileStore raising) fails the tick in one line, and the next tick publishes."""
    log = ExchangeLog(tmp_path / "inbox")
    log.write_one({"request_id": "r1", "ts": "2026-02-02T10:00:00Z", "account_id": "a",
                   "model": "m", "messages": [{"role": "user", "content": "hi"}]})  # fmt: skip
    log.close()
    state = tmp_path / "v.jsonl"

    def disk_full(*args: object, **kwargs: object) -> None:
        raise StoreFileError(errno.ENOSPC, "No space left on device", str(state))

    argv = ["watch", str(tmp_path / "lake"), "--inbox", str(tmp_path / "inbox")]
    argv += ["--state", str(state), "--every", "0.01"]
    with monkeypatch.context() as patched:
        patched.setattr(watch, "publish", disk_full)
        assert main([*argv, "--ticks", "2"]) == 1  # the last tick failed: cron sees it
    out = capsys.readouterr().out.splitlines()
    assert out == [f"watch: verdict store: no space left on device: {state} "
                   "(free some space and run again; nothing was half-written); "
                   "publishing again next tick"] * 2  # fmt: skip
    assert main([*argv, "--ticks", "1"]) == 0
    assert "verdicts:" in capsys.readouterr().out


def test_watch_reads_the_console_dismissals_at_every_tick(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What detect is given, watched (detect itself lifts dismissed flags: see
    tests/detect/test_allowlist.py); a dismissal added between ticks reaches the next."""
    allowlist = tmp_path / "allowlist.jsonl"
    (tmp_path / "inbox").mkdir()
    argv = ["watch", str(tmp_path / "lake"), "--inbox", str(tmp_path / "inbox")]
    state = str(tmp_path / "verdicts.jsonl")
    argv += ["--state", state, "--every", "0.01", "--allowlist", str(allowlist)]
    assert main([*argv, "--ticks", "1"]) == 2  # no such file yet: a typo is one line
    assert "no allowlist at" in capsys.readouterr().err
    allowlist.touch()
    seen: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        seen.append(len(kwargs["allowlist"]))
        append_allowlist(allowlist, AllowEntry("a", "fp", frozenset(), "alice", datetime.now(UTC)))
        return detect(*args, **kwargs)

    for n in (1, 2):
        log = ExchangeLog(tmp_path / "inbox" / str(n))  # a new file for each tick
        log.write_one({"request_id": f"r{n}", "ts": f"2026-02-02T1{n}:00:00Z", "account_id": "a",
                       "model": "m", "messages": [{"role": "user", "content": "hi"}]})  # fmt: skip
        log.close()
        with monkeypatch.context() as patched:
            patched.setattr(watch, "detect", counting)
            assert main([*argv, "--ticks", "1"]) == 0
    assert seen == [0, 1]


def test_a_store_that_is_down_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"
    assert main(["verdicts", "list", "--state", down]) == 2
    err = capsys.readouterr().err
    assert err.startswith("distillguard: error: verdict store:") and err.count("\n") == 1


# (verdicts command, a mistyped STATE) -> the one line: a typo must not read as an empty store
MISTYPED_STATES = [
    (["verdicts", "list"], "{tmp}/verdict.jsonl", "no verdict store at"),
    (["verdicts", "clear", "acct"], "{tmp}/nowhere/v.jsonl", "no verdict store at"),
    (["verdicts", "list"], "redis:/x", "a Redis store is redis://HOST:PORT/DB"),
    (["verdicts", "set", "a", "--action", "monitor", "--reason", "r"], "redis:x", "redis://"),
]


@pytest.mark.parametrize(("argv", "state", "message"), MISTYPED_STATES)
def test_a_mistyped_state_is_one_line_and_creates_nothing(
    argv: list[str], state: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.MonkeyPatch.context() as patched:
        patched.chdir(tmp_path)
        assert main([*argv, "--state", state.format(tmp=tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
