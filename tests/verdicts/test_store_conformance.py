"""Every VerdictStore (memory, file, Redis on a real redis-server) passes the same tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
import redis

from distillguard.errors import ConfigError
from distillguard.verdicts.file_store import FileStore
from distillguard.verdicts.model import Verdict, now
from distillguard.verdicts.store import VerdictStore, open_store, shown_state

STORES = ("memory", "file", "redis")


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VerdictStore]:
    if request.param == "redis":
        url: str = request.getfixturevalue("redis_url")
        redis.Redis.from_url(url).flushdb()
        state = url
    else:
        state = "memory" if request.param == "memory" else str(tmp_path / "v.jsonl")
    opened = open_store(state)
    yield opened
    opened.close()


def verdict(subject: str = "a1", action: str = "throttle", **kw: object) -> Verdict:
    fields: dict[str, object] = {"reason": "r", "source": "detector", "created": now(), **kw}
    return Verdict(subject, action, **fields)  # type: ignore[arg-type]


def test_is_a_verdict_store(store: VerdictStore) -> None:
    assert isinstance(store, VerdictStore)


def test_set_then_get_round_trips(store: VerdictStore) -> None:
    v = verdict(evidence="out/accounts.parquet#a1", score=0.93, cluster="c1")
    v = v.with_expiry(timedelta(hours=1))
    store.set(v)
    assert store.get("account:a1") == v
    assert store.get("account:nobody") is None
    assert store.get("cluster:a1") is None  # accounts and clusters are apart


def test_analyst_outranks_detector_whatever_the_order(store: VerdictStore) -> None:
    analyst = verdict(action="monitor", source="analyst")
    store.set(analyst)
    store.set(verdict(action="block_account"))  # a later detector verdict
    got = store.get("account:a1")
    assert got is not None and got.source == "analyst" and got.action == "monitor"


def test_newer_verdict_of_a_source_replaces_the_older(store: VerdictStore) -> None:
    store.set(verdict(action="throttle"))
    store.set(verdict(action="degrade"))
    got = store.get("account:a1")
    assert got is not None and got.action == "degrade"
    assert [v.action for v in store.list()] == ["degrade"]


def test_expired_verdicts_do_not_apply(store: VerdictStore) -> None:
    past = now() - timedelta(hours=2)
    store.set(verdict(created=past).with_expiry(timedelta(hours=1)))
    assert store.get("account:a1") is None
    assert store.list() == []
    # an expired analyst verdict no longer hides the detector's
    store.set(verdict("a3", "degrade"))
    store.set(verdict("a3", "monitor", source="analyst", created=past).with_expiry(timedelta(0, 1)))
    got = store.get("account:a3")
    assert got is not None and got.action == "degrade"


def test_clear_by_source_and_all(store: VerdictStore) -> None:
    store.set(verdict(action="degrade"))
    store.set(verdict(action="monitor", source="analyst"))
    assert store.clear("account:a1", "analyst") == 1
    got = store.get("account:a1")
    assert got is not None and got.source == "detector"
    assert store.clear("account:a1") == 1
    assert store.get("account:a1") is None
    assert store.clear("account:a1") == 0


def test_list_is_one_verdict_per_subject_by_key(store: VerdictStore) -> None:
    store.set(verdict("b"))
    store.set(verdict("a", "degrade"))
    store.set(verdict("a", "monitor", source="analyst"))
    store.set(verdict("c9", "block_cluster", kind="cluster"))
    listed = [(v.key, v.action) for v in store.list()]
    assert listed == [
        ("account:a", "monitor"),
        ("account:b", "throttle"),
        ("cluster:c9", "block_cluster"),
    ]


def test_every_change_is_audited_in_order(store: VerdictStore) -> None:
    store.set(verdict(action="throttle"))
    store.set(verdict(action="degrade", source="analyst"))
    store.clear("account:a1", "analyst")
    changes = store.audit()
    assert [(c.op, c.key, c.source) for c in changes] == [
        ("set", "account:a1", "detector"),
        ("set", "account:a1", "analyst"),
        ("clear", "account:a1", "analyst"),
    ]
    assert changes[1].verdict is not None and changes[1].verdict.action == "degrade"


@pytest.mark.parametrize("state", ["postgres://x", "redis://127.0.0.1:6379/abc"])
def test_unknown_state_names_the_valid_ones(state: str) -> None:
    with pytest.raises(ConfigError, match="redis://HOST:PORT/DB"):
        open_store(state)


@pytest.mark.parametrize(
    "state",
    [
        "redis://:hunter2@127.0.0.1:notaport/0",  # ValueError from urlparse: a traceback
        "redis://:hunter2@127.0.0.1:99999/0",
        "redis://:hunter2@127.0.0.1/0",
    ],
)
def test_a_bad_redis_url_is_a_config_error_without_its_password(state: str) -> None:
    with pytest.raises(ConfigError, match="redis://HOST:PORT/DB") as caught:
        open_store(state)
    assert "hunter2" not in str(caught.value) and ":***@" in str(caught.value)


@pytest.mark.parametrize(
    ("state", "shown"),
    [
        ("redis://:hunter2@127.0.0.1:6399/0", "redis://:***@127.0.0.1:6399/0"),
        ("redis://app:hunter2@cache:6379/2", "redis://app:***@cache:6379/2"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("verdicts.jsonl", "verdicts.jsonl"),
        # each printed whole before, in the start line or the error
        ("rediss://:hunter2@cache:6380/0", "rediss://:***@cache:6380/0"),
        ("REDIS://:hunter2@cache:6379/0", "REDIS://:***@cache:6379/0"),
        ("redis:/:hunter2@cache:6379/0", "redis:/:***@cache:6379/0"),
        ("redis:hunter2@cache", "redis:***@cache"),
        # a '?' in the password made the rest a query, and the password was shown
        ("redis://:pa?ss@host:6379/0?password=x", "redis://:***@host:6379/0?password=***"),
        ("https://up.example/v1?key=K&token=T", "https://up.example/v1?key=***&token=***"),
        ("https://api.example.com:8443/v1/team@corp", "https://api.example.com:8443/v1/team@corp"),
        ("redis://cache:6379/0?password=hunter2", "redis://cache:6379/0?password=***"),
        ("redis://cache:6379/0?PASSWORD=hunter2&x=1", "redis://cache:6379/0?PASSWORD=***&x=1"),
        ("redis://u:p:w@d@cache:6379/0", "redis://u:***@cache:6379/0"),
    ],
)
def test_a_state_is_shown_with_its_password_masked(state: str, shown: str) -> None:
    """The gateway's start line printed redis://:hunter2@...: the password, on a terminal
    and in every log that keeps its output."""
    assert shown_state(state) == shown


@pytest.mark.parametrize(
    "state",
    ["redis:/:hunter2@cache:6379/0", "redis:hunter2@cache", "redi://:hunter2@cache:1/0"],
)
def test_a_mistyped_store_url_is_refused_without_its_password(state: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_store(state)
    assert "hunter2" not in str(caught.value)


def test_rediss_and_an_upper_case_scheme_open_a_redis_store() -> None:
    """TLS Redis (managed caches) was an 'unknown verdict store', naming its password."""
    from distillguard.verdicts.redis_store import RedisStore

    for state in ("rediss://:pw@127.0.0.1:6380/0", "REDIS://127.0.0.1:6379/1"):
        assert isinstance(open_store(state), RedisStore)


def test_file_store_readers_see_writers_and_skip_corrupt_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "v.jsonl"
    reader, writer = FileStore(path), FileStore(path)
    assert reader.get("account:a1") is None
    writer.set(verdict(action="degrade"))
    assert reader.get("account:a1") is not None  # read up to line 1 before the bad rows
    with path.open("ab") as handle:
        handle.write(b'{"op": "set", "key": "account:x"}\nnot json\n')
    writer.set(verdict("a2", "block_account"))
    got = reader.get("account:a2")
    assert got is not None and got.action == "block_account"
    assert reader.get("account:a1") is not None and reader.corrupt_rows == 2
    # the file's own line numbers (orjson's "line 1 column 42" counted within the row)
    assert "v.jsonl line 2: skipped a corrupt row (a set without a verdict)" in caplog.text
    assert "v.jsonl line 3: skipped a corrupt row (not JSON: cut short or mangled)" in caplog.text
    with path.open("ab") as handle:  # a half-written line is left for the next read
        handle.write(b'{"op": "clear", "key": "account:a1", "at": "2026-01-01T00:00:00+00:00"')
    assert reader.get("account:a1") is not None
    with path.open("ab") as handle:
        handle.write(b', "verdict": null, "source": null}\n')
    assert reader.get("account:a1") is None and reader.corrupt_rows == 2


def test_a_verdict_set_after_a_cut_line_takes_effect(tmp_path: Path) -> None:
    """A log ending inside a line (its writer killed by another program, a copy cut
    short): the next change was glued to it and skipped with it, so an analyst's block
    never took effect. It starts on a line of its own; the cut line is skipped alone."""
    path = tmp_path / "v.jsonl"
    FileStore(path).set(verdict(action="degrade"))
    with path.open("ab") as handle:
        handle.write(b'{"op": "set", "key": "account:zz", "at": "2026-12')
    FileStore(path).set(verdict("bob", "block_account"))
    reader = FileStore(path)
    got = reader.get("account:bob")
    assert got is not None and got.action == "block_account"
    assert reader.corrupt_rows == 1 and reader.get("account:a1") is not None


# A row of a newer version, or edited by hand, that parses but fails a verdict's checks.
UNKNOWN_ACTION = {
    "op": "set",
    "key": "account:a3",
    "at": "2026-01-01T00:00:00+00:00",
    "source": "detector",
    "verdict": {
        "subject": "a3",
        "action": "ban",
        "source": "detector",
        "created": "2026-01-01T00:00:00+00:00",
    },
}


def test_a_row_with_an_unknown_action_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "v.jsonl"
    store = FileStore(path)
    store.set(verdict(action="degrade"))
    with path.open("ab") as handle:
        handle.write(orjson.dumps(UNKNOWN_ACTION) + b"\n")
    store.set(verdict("a2", "block_account"))
    reader = FileStore(path)
    for _ in range(2):  # read twice: the bad line is passed once, not replayed
        assert reader.get("account:a1") is not None and reader.get("account:a3") is None
    assert reader.corrupt_rows == 1 and len(reader.audit()) == 2


def test_redis_store_skips_a_corrupt_row(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    store = open_store(redis_url)
    store.set(verdict(action="degrade"))
    client.hset("dg:v:account:a1", "analyst", b"{broken")
    got = store.get("account:a1")
    assert got is not None and got.action == "degrade"
    client.rpush("dg:audit", orjson.dumps(UNKNOWN_ACTION), b"{broken")
    assert [c.key for c in store.audit()] == ["account:a1"]
    store.close()
