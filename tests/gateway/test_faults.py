"""Faults over real HTTP: each has a defined answer, and every request is in the exchange log.

The upstream is the fake model API on loopback (tests/fake_upstream.py); Redis is Debian's
redis-server, killed in the middle of a load.
"""

from __future__ import annotations

import errno
import gzip
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pytest

from distillguard.errors import UserError
from distillguard.ingest.pipeline import ingest
from distillguard.verdicts.file_store import FileStore
from distillguard.verdicts.store import StoreFileError
from tests.fake_upstream import FakeUpstream
from tests.gateway.client import body, send, verdict
from tests.gateway.conftest import ServeGateway
from tests.redis_server import free_port, redis_server


def logged(tmp_path: Path) -> int:
    """Rows of the gateway's exchange log, through the real ingest (nothing quarantined)."""
    summary = ingest([tmp_path / "exchanges"], tmp_path / "lake")
    assert summary.quarantined == 0
    return summary.kept


def test_redis_killed_mid_load_fails_open_and_loses_nothing(
    serve_gateway: ServeGateway, upstream: FakeUpstream, tmp_path: Path
) -> None:
    statuses: list[int] = []
    with redis_server(tmp_path) as server, serve_gateway(server.url, fail="open") as (url, gw):
        gw.store.set(verdict("rk-bad", "block_account"))

        def load(account: str) -> None:
            with httpx.Client(timeout=30) as client:
                for _ in range(15):
                    path = url + "/v1/chat/completions"
                    headers = {"x-distillguard-account": account}
                    r = client.post(path, json=body("openai", account), headers=headers)
                    statuses.append(r.status_code)

        threads = [threading.Thread(target=load, args=(f"rk-{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        server.kill()
        for t in threads:
            t.join()
        after = send(url, "openai", "rk-bad")
    assert set(statuses) == {200} and len(statuses) == 60
    assert after.status_code == 200 and after.headers["x-distillguard-fail"].startswith("open")
    assert gw.failures >= 1
    assert logged(tmp_path) == 61


def test_upstream_timeout_and_5xx(
    serve_gateway: ServeGateway, upstream: FakeUpstream, tmp_path: Path
) -> None:
    with serve_gateway(settings={"upstream_timeout_s": 0.3}) as (url, _):
        slow = send(url, "openai", "up-slow", model="slow")
        slow_stream = send(url, "anthropic", "up-slow", model="slow", stream=True)
        failed = send(url, "anthropic", "up-500", model="fail-500")
        failed_stream = send(url, "openai", "up-500", model="fail-500", stream=True)
    assert slow.status_code == 504 and slow.json()["error"]["type"] == "upstream_timeout"
    assert slow_stream.status_code == 504 and slow_stream.json()["type"] == "error"
    assert failed.status_code == 500 and failed.json() == {"error": {"message": "overloaded"}}
    assert failed_stream.status_code == 500
    assert logged(tmp_path) == 4


def test_a_stream_the_upstream_breaks_off_ends_in_an_error_event_the_sdks_raise(
    serve_gateway: ServeGateway,
    upstream: FakeUpstream,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    account = {"x-distillguard-account": "cut"}
    caplog.set_level(logging.WARNING, logger="distillguard.gateway")
    with serve_gateway() as (url, _):
        raw = send(url, "anthropic", "cut", model="break-stream", stream=True)
        chat = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", default_headers=account,
                             max_retries=0)  # fmt: skip
        with chat, pytest.raises(openai.APIError) as oa:
            for _ in chat.chat.completions.create(
                model="break-stream", messages=[{"role": "user", "content": "hi"}], stream=True
            ):
                pass
        messages = anthropic.Anthropic(base_url=url, api_key="sk-test", default_headers=account,
                                       max_retries=0)  # fmt: skip
        with messages, pytest.raises(anthropic.APIError) as an:
            for _ in messages.messages.create(
                model="break-stream", max_tokens=64, stream=True,
                messages=[{"role": "user", "content": "hi"}],
            ):  # fmt: skip
                pass
    assert raw.status_code == 200  # sent before the upstream broke off
    last = raw.text.rstrip("\n").split("\n\n")[-1]
    assert last.startswith("event: error\ndata: ")
    assert orjson.loads(last.split("data: ", 1)[1])["error"]["type"] == "upstream_error"
    assert "broke off" in str(oa.value) and "upstream_error" in str(an.value)
    warned = [r for r in caplog.records if r.name == "distillguard.gateway"]
    assert len(warned) == 3 and all(r.exc_info is None for r in warned)
    assert "broke off" in warned[0].getMessage()
    rows = [orjson.loads(line) for f in (tmp_path / "exchanges").glob("*.jsonl")
            for line in f.read_bytes().splitlines()]  # fmt: skip
    assert [r["status"] for r in rows] == [502, 502, 502]
    assert logged(tmp_path) == 3


def test_a_client_that_leaves_mid_stream_is_logged_as_such(
    serve_gateway: ServeGateway, upstream: FakeUpstream, tmp_path: Path
) -> None:
    """The row said 200 with no stop reason, as if the answer had been served whole."""
    sent = body("openai", "leaver", model="drip-stream", stream=True)
    headers = {"x-distillguard-account": "leaver"}
    upstream.delay_s = 0.3
    try:
        with serve_gateway() as (url, _):
            with httpx.stream("POST", url + "/v1/chat/completions", json=sent,
                              headers=headers, timeout=30) as answer:  # fmt: skip
                first = next(answer.iter_raw())
            time.sleep(2.0)  # the gateway sees the client gone at its next write
    finally:
        upstream.delay_s = 2.0
    rows = [orjson.loads(line) for f in (tmp_path / "exchanges").glob("*.jsonl")
            for line in f.read_bytes().splitlines()]  # fmt: skip
    assert answer.status_code == 200 and first.startswith(b"data: ")
    assert [(r["status"], r.get("stop_reason")) for r in rows] == [(499, None)]
    assert logged(tmp_path) == 1


@pytest.mark.parametrize("stream", [False, True])
def test_the_query_string_reaches_the_upstream(
    serve_gateway: ServeGateway, upstream: FakeUpstream, stream: bool
) -> None:
    """Azure's OpenAI endpoints take api-version in the query, which was dropped."""
    with serve_gateway() as (url, _):
        reply = httpx.post(url + "/v1/chat/completions?api-version=2024-10-21",
                           json=body("openai", f"q-{stream}", stream=stream),
                           headers={"x-distillguard-account": f"q-{stream}"})  # fmt: skip
    assert reply.status_code == 200
    [seen] = [r for r in upstream.requests if f"[q-{stream}]" in str(r["body"])]
    assert seen["query"] == "api-version=2024-10-21"


def test_an_upstream_that_cannot_be_reached_is_in_the_log(
    serve_gateway: ServeGateway, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every request was a 502 and the gateway's log said nothing of the upstream."""
    caplog.set_level(logging.WARNING, logger="distillguard.gateway")
    nobody = f"http://127.0.0.1:{free_port()}"
    with serve_gateway(settings={"upstream": nobody}) as (url, _):
        refused = send(url, "openai", "gone")
    assert refused.status_code == 502
    [said] = [r.getMessage() for r in caplog.records if r.name == "distillguard.gateway"]
    assert said.startswith(f"the model API at {nobody} could not be reached: ")


@pytest.mark.parametrize(
    "case",
    [  # each says what to do: "Too large." named neither the limit nor its option
        (b"{not json", 400, "invalid_request_error", "must be a JSON object", None),
        (b"[1, 2]", 400, "invalid_request_error", "must be a JSON object", None),
        (
            b'{"model": "m", "messages": "' + b"x" * 300_000 + b'"}',
            413,
            "request_too_large",
            "over the gateway's limit of 0.190735 MB (its --max-body-mb)",
            None,
        ),
        (  # a proxy's compression was read as "not a JSON object"
            gzip.compress(b'{"model": "m", "messages": []}'),
            415,
            "invalid_request_error",
            "Content-Encoding 'gzip'; the gateway reads uncompressed JSON only",
            "gzip",
        ),
    ],
)
def test_malformed_and_huge_requests(
    serve_gateway: ServeGateway,
    upstream: FakeUpstream,
    tmp_path: Path,
    case: tuple[bytes, int, str, str, str | None],
) -> None:
    content, status, kind, says, encoding = case
    before = len(upstream.requests)
    headers = {"x-distillguard-account": "bad-input"}
    headers.update({"content-encoding": encoding} if encoding else {})
    with serve_gateway(settings={"max_body_bytes": 200_000}) as (url, _):
        r = httpx.post(url + "/v1/chat/completions", content=content, headers=headers)
    assert r.status_code == status and r.json()["error"]["type"] == kind
    assert says in r.json()["error"]["message"]
    assert len(upstream.requests) == before
    assert logged(tmp_path) == 1


def test_unknown_api_key_is_refused_and_keys_map_to_accounts(
    serve_gateway: ServeGateway, upstream: FakeUpstream, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text("sk-alice: acct-alice\n")
    with serve_gateway(identity=f"keys:{keys}") as (url, _):
        path = url + "/v1/messages"
        known = httpx.post(
            path, json=body("anthropic", "acct-alice"), headers={"x-api-key": "sk-alice"}
        )
        unknown = httpx.post(
            path, json=body("anthropic", "who"), headers={"x-api-key": "sk-mallory"}
        )
        none = httpx.post(path, json=body("anthropic", "who"))
        # A known key as Bearer beside another as x-api-key: both would go upstream, and
        # the upstream might serve the one not checked here.
        two = httpx.post(
            path,
            json=body("anthropic", "two"),
            headers={"authorization": "Bearer sk-alice", "x-api-key": "sk-mallory"},
        )
        same = httpx.post(
            path,
            json=body("anthropic", "same"),
            headers={"authorization": "Bearer sk-alice", "x-api-key": "sk-alice"},
        )
        # a header sent twice: the first copy was judged, whatever the second held
        copies = [("x-api-key", "sk-alice"), ("x-api-key", "sk-mallory")]
        twice = httpx.post(path, json=body("anthropic", "twice"), headers=copies)
    assert two.status_code == 401 and "Two different API keys" in two.text
    assert twice.status_code == 401 and "Two different API keys" in twice.text
    assert upstream.seen("two") == [] and same.status_code == 200
    assert known.status_code == 200
    assert unknown.status_code == 401 and unknown.json()["error"]["type"] == "authentication_error"
    assert unknown.json()["error"]["message"] == "Unknown API key."
    assert none.status_code == 401 and upstream.seen("who") == []
    assert none.json()["error"]["message"] == "No API key."
    log_text = "".join(p.read_text() for p in (tmp_path / "exchanges").glob("*.jsonl"))
    assert "sk-mallory" not in log_text and "sk-alice" not in log_text  # secrets never logged
    assert logged(tmp_path) == 6


# (case, headers beside a known key's x-api-key, query, status): a credential the gateway
# does not read still went upstream, where LiteLLM serves Basic or a bare key first
SMUGGLED = [
    ("Basic", {"authorization": "Basic sk-other"}, "", 401),
    ("a bare key", {"authorization": "sk-other"}, "", 401),
    ("Bearer and a tab", {"authorization": "Bearer\tsk-other"}, "", 401),
    ("AWS signature", {"authorization": "AWS4-HMAC-SHA256 Credential=sk-other"}, "", 401),
    ("a key in the query", {}, "?key=sk-other", 401),
    ("a token in the query", {}, "?access_token=sk-other", 401),
    ("the same key as Bearer", {"authorization": "bearer  sk-alice"}, "", 200),
    ("Azure's api-version", {}, "?api-version=2024-10-21", 200),
]


@pytest.mark.parametrize("smuggled", SMUGGLED, ids=[c[0] for c in SMUGGLED])
def test_a_credential_the_gateway_does_not_read_is_refused(
    serve_gateway: ServeGateway,
    upstream: FakeUpstream,
    tmp_path: Path,
    smuggled: tuple[str, dict[str, str], str, int],
) -> None:
    case, extra, query, status = smuggled
    keys = tmp_path / "keys.yaml"
    keys.write_text("sk-alice: acct-alice\n")
    with serve_gateway(identity=f"keys:{keys}") as (url, _):
        answer = httpx.post(url + "/v1/chat/completions" + query,
                            json=body("openai", f"smuggled-{case}"),
                            headers={"x-api-key": "sk-alice", **extra})  # fmt: skip
    assert answer.status_code == status, case
    assert (upstream.seen(f"smuggled-{case}") == []) is (status == 401)


def test_a_key_revoked_in_the_file_is_refused_without_a_restart(
    serve_gateway: ServeGateway, upstream: FakeUpstream, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text("sk-gone: acct-gone\n")
    with serve_gateway(identity=f"keys:{keys}") as (url, gw):
        assert gw.settings.identity.keys is not None
        gw.settings.identity.keys.CHECK_EVERY_S = 0.0
        path, sent = url + "/v1/messages", body("anthropic", "acct-gone")
        before = httpx.post(path, json=sent, headers={"x-api-key": "sk-gone"})
        keys.write_text("sk-new: acct-new\n")
        os.utime(keys, ns=(keys.stat().st_mtime_ns + 10**9,) * 2)
        after = httpx.post(path, json=sent, headers={"x-api-key": "sk-gone"})
        new = httpx.post(path, json=body("anthropic", "acct-new"), headers={"x-api-key": "sk-new"})
    assert (before.status_code, after.status_code, new.status_code) == (200, 401, 200)


def test_an_account_header_sent_twice_with_different_values_is_refused(
    serve_gateway: ServeGateway, upstream: FakeUpstream, tmp_path: Path
) -> None:
    """An auth layer that adds its header beside the client's, instead of replacing it,
    left two, and the gateway served the first: the client's own."""
    with serve_gateway() as (url, gw):
        gw.store.set(verdict("hh-bad", "block_account"))
        path = url + "/v1/chat/completions"
        two = [("x-distillguard-account", "hh-ok"), ("x-distillguard-account", "hh-bad")]
        refused = httpx.post(path, json=body("openai", "hh-ok"), headers=two)
        same = [("x-distillguard-account", "hh-ok"), ("x-distillguard-account", "hh-ok")]
        served = httpx.post(path, json=body("openai", "hh-ok"), headers=same)
    assert refused.status_code == 401 and "Two different account headers" in refused.text
    assert served.status_code == 200 and len(upstream.seen("hh-ok")) == 1
    assert logged(tmp_path) == 2


def test_a_request_without_the_account_header_is_told_so(
    serve_gateway: ServeGateway, upstream: FakeUpstream
) -> None:
    """In header mode no API key is involved, yet the 401 said "Unknown API key or no
    account."."""
    with serve_gateway() as (url, _):
        answer = httpx.post(url + "/v1/chat/completions", json=body("openai", "nobody"))
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "No x-distillguard-account header."


def test_a_corrupt_verdict_row_is_skipped(serve_gateway: ServeGateway, tmp_path: Path) -> None:
    state = tmp_path / "verdicts.jsonl"
    store = FileStore(state)
    store.set(verdict("cv-1", "block_account"))
    with state.open("ab") as handle:
        handle.write(b'{"op": "set", "key": "account:cv-2", "verdict": {"subject": "cv-2"}}\n')
    store.set(verdict("cv-3", "block_account"))
    with serve_gateway(str(state)) as (url, gw):
        codes = [send(url, "openai", a).status_code for a in ("cv-1", "cv-2", "cv-3")]
        corrupt: Any = getattr(gw.store, "corrupt_rows", None)
    assert codes == [403, 200, 403] and corrupt == 1


@pytest.mark.parametrize("call", ["get", "set"])
def test_a_verdict_file_that_cannot_be_read_or_written_is_the_stores_error(
    tmp_path: Path, call: str
) -> None:
    """The log's path replaced by a directory under a running store (as a lost mount
    might leave it; a permission change would not stop root, which tests run as): the
    OSError names the store, keeps its errno and file, and `watch` lives through it."""
    state = tmp_path / "verdicts.jsonl"
    store = FileStore(state)
    store.set(verdict("sf-1", "block_account"))
    state.unlink()
    state.mkdir()
    with pytest.raises(StoreFileError) as raised:
        if call == "get":
            store.get("account:sf-1")
        else:
            store.set(verdict("sf-2", "block_account"))
    assert raised.value.errno == errno.EISDIR and raised.value.filename == str(state)


def test_the_fail_mode_line_says_what_the_store_said(
    serve_gateway: ServeGateway, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The line said "store: StoreFileError" alone on every request: no file named."""
    state = tmp_path / "verdicts.jsonl"
    FileStore(state).set(verdict("gone-1", "block_account"))
    with serve_gateway(str(state)) as (url, _):
        state.unlink()
        state.mkdir()  # as a lost mount leaves it
        answer = send(url, "openai", "gone-1")
    assert answer.status_code == 200  # the fail mode, open here
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("fail open")]
    assert line.startswith("fail open for gone-1: store: StoreFileError (")
    assert str(state) in line


def test_a_disk_that_fills_mid_line_leaves_no_half_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that stops part-way (ENOSPC after some bytes) is cut off again, so the next
    verdict's line does not join a half one and both are kept."""
    state = tmp_path / "verdicts.jsonl"
    store = FileStore(state)
    store.set(verdict("hl-1", "block_account"))
    size = state.stat().st_size
    real_write, log_fds = os.write, set()

    def fills_up(fd: int, data: bytes) -> int:
        if data.startswith(b'{"op"'):  # the line's first write: part of it lands
            log_fds.add(fd)
            return real_write(fd, data[:10])
        if fd in log_fds:  # the rest of it: the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)  # someone else's write

    with monkeypatch.context() as patched:
        patched.setattr(os, "write", fills_up)
        with pytest.raises(StoreFileError) as raised:
            store.set(verdict("hl-2", "block_account"))
    assert raised.value.errno == errno.ENOSPC and state.stat().st_size == size
    store.set(verdict("hl-3", "block_account"))
    reader = FileStore(state)
    assert [v.subject for v in reader.list()] == ["hl-1", "hl-3"] and reader.corrupt_rows == 0


@pytest.mark.parametrize(
    "content",
    [b'{"account_id": "a1", "tier": "free"}\n', b"PAR1\x15\x04\x15\x00\n", b"not json\n"],
)
def test_a_file_that_is_not_a_verdict_log_is_refused(tmp_path: Path, content: bytes) -> None:
    """An accounts table or a Parquet file given as STATE: refused, not appended to."""
    state = tmp_path / "accounts.jsonl"
    state.write_bytes(content)
    with pytest.raises(UserError, match="is not a verdict log"):
        FileStore(state)
    assert state.read_bytes() == content
