"""The degrade step's watermark over real HTTP on loopback, with the real OpenAI and Anthropic
SDKs as clients. The upstream is the fake (model "echo" answers with the prompt's text, so the
test knows the unwatermarked answer); the watermark and the gateway are the real ones."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pytest

from distillguard.cli.main import main
from distillguard.gateway.actions.degrade import DEFAULT_DEGRADATIONS
from distillguard.provenance import WatermarkKey, verify_provenance, watermark_text
from tests.fake_upstream import ECHO, TOOL_ARGUMENTS, FakeUpstream
from tests.gateway.client import body, send, verdict
from tests.gateway.conftest import ServeGateway
from tests.gateway.test_ladder_http import sse_data, store_with
from tests.redis_server import free_port

SENTENCES = [
    "Moreover, the big model often gives a large answer.",
    "For example, anyone can obtain the whole result quickly.",
    "It seems the main goal is usually to improve the entire method.",
    "Perhaps everyone will try to verify the exact figure, and they frequently do.",
    "Furthermore, the primary mistakes were nearly always evident and particularly easy to see.",
    "Similarly, we can choose a huge option and generate sufficient benefits.",
    "Nevertheless, the doctors typically assess the results properly and roughly.",
    "In the end, the quickly growing kinds of methods mainly help to begin again.",
]
TOOLS_OPENAI: Any = [
    {"type": "function", "function": {"name": "run", "parameters": {"type": "object"}}}
]
TOOLS_ANTHROPIC = [{"name": "run", "input_schema": {"type": "object"}}]
APIS = ("openai", "anthropic")
CODE = "```python\nbig = large(often=True)  # the whole, entire thing\n```"
STRUCTURED = '{"often": "big", "note": "a large whole"}.'


def prose(seed: int, sentences: int = 6) -> str:
    rng = random.Random(seed)
    return " ".join(rng.sample(SENTENCES, sentences))


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[WatermarkKey, Path]:
    key = WatermarkKey.generate(seed=19)
    path = tmp_path_factory.mktemp("key") / "prov.key"
    key.save(path)
    return key, path


def marking(path: Path, named: tuple[str, ...] = DEFAULT_DEGRADATIONS) -> dict[str, Any]:
    """Policy actions whose degrade step also watermarks, with the key at `path`."""
    return {"degrade": {"degradations": [*named, "watermark"], "watermark_key": str(path)}}


def served_text(api: str, response: httpx.Response, stream: bool) -> str:
    if not stream:
        data = response.json()
        if api == "anthropic":
            return "".join(b["text"] for b in data["content"] if b["type"] == "text")
        return str(data["choices"][0]["message"]["content"])
    events = sse_data(response.text)
    if api == "anthropic":
        deltas = [e["delta"] for e in events if e["type"] == "content_block_delta"]
        return "".join(d["text"] for d in deltas if d["type"] == "text_delta")
    return "".join(c["delta"].get("content") or "" for e in events for c in e["choices"])


@pytest.fixture
def degraded(
    serve_gateway: ServeGateway, key_file: tuple[WatermarkKey, Path]
) -> Iterator[tuple[str, Path]]:
    """A gateway whose degrade step watermarks, with account `wm` degraded; its log dir."""
    store = store_with(verdict("wm", "degrade"), verdict("wm-mon", "degrade"))
    with serve_gateway(store, actions=marking(key_file[1])) as (url, gateway):
        assert gateway.settings.log_dir is not None
        yield url, gateway.settings.log_dir


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("stream", [False, True])
def test_a_degraded_answer_is_the_upstreams_answer_watermarked(
    degraded: tuple[str, Path], key_file: tuple[WatermarkKey, Path], api: str, stream: bool
) -> None:
    url, _ = degraded
    key = key_file[0]
    changed = 0
    for seed in range(4):
        text = f"{prose(seed)}\n{CODE}\n{prose(seed + 50)} Reply as {STRUCTURED}"
        r = send(url, api, "wm", text, model=ECHO, stream=stream)
        assert r.status_code == 200 and r.headers["x-distillguard-action"] == "degrade"
        expected = watermark_text(f"[wm] {text}", key)
        # streamed in 7-character deltas that split words, it is still exactly the whole
        # answer watermarked in one go, and code and JSON inside it are left as they were
        served = served_text(api, r, stream)
        assert served == expected.text and CODE in served and STRUCTURED in served
        changed += expected.changed
    assert changed > 0  # the watermark did change words


def test_the_provenance_test_finds_the_key_in_what_was_served(
    degraded: tuple[str, Path], key_file: tuple[WatermarkKey, Path]
) -> None:
    url, _ = degraded
    key, originals, served = key_file[0], [], []
    for seed in range(24):
        api, stream = APIS[seed % 2], seed % 4 >= 2
        originals.append(prose(100 + seed, sentences=8))
        r = send(url, api, "wm", originals[-1], model=ECHO, stream=stream)
        served.append(served_text(api, r, stream))
    found = verify_provenance(key, served)
    assert found.positions >= 300 and found.p_value < 1e-5, found.explanation
    assert verify_provenance(WatermarkKey.generate(seed=20), served).p_value > 1e-3
    assert verify_provenance(key, originals).p_value > 1e-3  # the upstream's text is not marked


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("stream", [False, True])
def test_undegraded_and_monitored_answers_are_the_upstreams_bytes(
    serve_gateway: ServeGateway,
    upstream: FakeUpstream,
    key_file: tuple[WatermarkKey, Path],
    api: str,
    stream: bool,
) -> None:
    text = prose(7)
    store = store_with(verdict("wm-mon", "degrade"))
    actions = marking(key_file[1])
    extra: dict[str, Any] = {"model": ECHO, "stream": stream}
    if api == "openai":
        extra["logprobs"] = True
    with serve_gateway(store, actions=actions) as (url, _):
        clean = send(url, api, "wm-clean", text, **extra)
    with serve_gateway(store, actions=actions, mode="monitor") as (url, _):
        monitored = send(url, api, "wm-mon", text, **extra)
    path = "/v1/messages" if api == "anthropic" else "/v1/chat/completions"
    for account, served in (("wm-clean", clean), ("wm-mon", monitored)):
        direct = httpx.post(upstream.url + path, json=body(api, account, text, **extra))
        assert served.content == direct.content  # byte for byte what the upstream sent
    assert clean.headers["x-distillguard-action"] == "none"
    assert monitored.headers["x-distillguard-action"] == "degrade"  # reported, not done
    assert monitored.headers["x-distillguard-mode"] == "monitor"
    if api == "openai":  # monitor mode leaves the request as it was, logprobs included
        assert upstream.seen("wm-mon")[-1]["body"]["logprobs"] is True


def test_openai_sdk_reads_the_streamed_watermarked_answer_and_its_tool_call(
    degraded: tuple[str, Path], key_file: tuple[WatermarkKey, Path], upstream: FakeUpstream
) -> None:
    url, _ = degraded
    text = prose(3)
    messages: Any = [{"role": "user", "content": f"[wm] {text}"}]
    # Closed when done: an SDK client left open leaks its pooled socket to a later test.
    account = {"x-distillguard-account": "wm"}
    with (
        openai.OpenAI(base_url=url + "/v1", api_key="sk-test", default_headers=account) as client,
        client.chat.completions.stream(
            model=ECHO, messages=messages, tools=TOOLS_OPENAI, logprobs=True, top_logprobs=2
        ) as events,
    ):
        final = events.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    # degrade's trim_tool_traces cuts the narration around a tool call first, then it is marked
    assert choice.message.content == watermark_text(f"[wm] {text}"[:200], key_file[0]).text
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.arguments == TOOL_ARGUMENTS  # untouched
    sent = upstream.seen("wm")[-1]["body"]
    assert "logprobs" not in sent and "top_logprobs" not in sent  # would show the originals


def test_openai_non_streamed_tool_call_arguments_pass_unchanged(
    degraded: tuple[str, Path], key_file: tuple[WatermarkKey, Path]
) -> None:
    url, _ = degraded
    text = prose(4)
    r = send(url, "openai", "wm", text, model=ECHO, tools=TOOLS_OPENAI)
    message = r.json()["choices"][0]["message"]
    assert message["tool_calls"][0]["function"]["arguments"] == TOOL_ARGUMENTS
    assert message["content"] == watermark_text(f"[wm] {text}"[:200], key_file[0]).text


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_sdk_reads_the_watermarked_answer_and_its_tool_use(
    degraded: tuple[str, Path], key_file: tuple[WatermarkKey, Path], stream: bool
) -> None:
    url, _ = degraded
    text = prose(5)
    ask: Any = {"model": ECHO, "max_tokens": 100, "tools": TOOLS_ANTHROPIC,
                "messages": [{"role": "user", "content": f"[wm] {text}"}]}  # fmt: skip
    account = {"x-distillguard-account": "wm"}
    with anthropic.Anthropic(base_url=url, api_key="sk-test", default_headers=account) as client:
        if stream:
            with client.messages.stream(**ask) as events:
                final = events.get_final_message()
        else:
            final = client.messages.create(**ask)
    kinds = [block.type for block in final.content]
    assert kinds == ["text", "tool_use"]
    first, second = final.content
    assert first.type == "text" and second.type == "tool_use"
    assert first.text == watermark_text(f"[wm] {text}"[:200], key_file[0]).text
    assert second.input == orjson.loads(TOOL_ARGUMENTS)  # tool_use input untouched


def test_streamed_anthropic_events_keep_their_order_and_names(degraded: tuple[str, Path]) -> None:
    url, _ = degraded
    r = send(url, "anthropic", "wm", prose(6), model=ECHO, stream=True, tools=TOOLS_ANTHROPIC)
    blocks = r.text.strip().split("\n\n")
    names = [b.splitlines()[0].removeprefix("event: ") for b in blocks]
    kinds = [orjson.loads(b.splitlines()[1][6:])["type"] for b in blocks]
    assert names == kinds  # every event is named after its own type
    open_blocks: set[int] = set()
    for event in sse_data(r.text):
        if event["type"] == "content_block_start":
            open_blocks.add(event["index"])
        elif event["type"] in ("content_block_delta", "content_block_stop"):
            assert event["index"] in open_blocks
            if event["type"] == "content_block_stop":
                open_blocks.remove(event["index"])
    assert not open_blocks and kinds[-2:] == ["message_delta", "message_stop"]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("stream", [False, True])
def test_the_exchange_log_records_the_served_watermarked_text(
    serve_gateway: ServeGateway,
    key_file: tuple[WatermarkKey, Path],
    tmp_path: Path,
    api: str,
    stream: bool,
) -> None:
    text = prose(8)
    store = store_with(verdict("wm-log", "degrade"))
    with serve_gateway(store, actions=marking(key_file[1])) as (url, _):
        r = send(url, api, "wm-log", text, model=ECHO, stream=stream)
    rows = [orjson.loads(line) for p in (tmp_path / "exchanges").glob("*.jsonl")
            for line in p.read_bytes().splitlines()]  # fmt: skip
    logged = [row["output_text"] for row in rows if row["account_id"] == "wm-log"]
    assert logged == [served_text(api, r, stream)]
    assert logged[0] != f"[wm-log] {text}"


def test_the_key_never_reaches_the_log(
    degraded: tuple[str, Path],
    key_file: tuple[WatermarkKey, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, log_dir = degraded
    with caplog.at_level("DEBUG"):
        send(url, "openai", "wm", prose(9), model=ECHO, stream=True)
    secret = key_file[0].secret.hex()
    assert secret not in caplog.text
    assert all(secret not in p.read_text() for p in log_dir.glob("*"))


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        (None, "degrade watermark: key file not found"),
        ("not json", "is not a distillguard provenance key"),
        ('{"kind": "distillguard-provenance-key", "secret": "ab"}', "must be 32 bytes"),
    ],
)
def test_a_bad_watermark_key_is_one_line_at_startup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], contents: str | None, message: str
) -> None:
    path = tmp_path / "prov.key"
    if contents is not None:
        path.write_text(contents)
    argv = ["gateway", "--upstream", "http://127.0.0.1:9", "--state", "memory"]
    assert main([*argv, "--watermark-key", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_policy_naming_watermark_without_a_key_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "publish: {rules: []}\nactions:\n  reverify: {url: https://example.com/verify}\n"
        "  degrade: {degradations: [cap_max_tokens, watermark]}\n"
    )
    argv = ["gateway", "--upstream", "http://127.0.0.1:9", "--state", "memory"]
    assert main([*argv, "--policy", str(policy)]) == 2
    err = capsys.readouterr().err
    assert "watermark needs a key" in err and err.count("\n") == 1


@pytest.mark.parametrize("marked", [True, False])
def test_the_start_line_says_whether_answers_are_watermarked(
    tmp_path: Path, key_file: tuple[WatermarkKey, Path], marked: bool
) -> None:
    port = free_port()
    argv = ["gateway", "--upstream", "http://gw:hunter2@127.0.0.1:9", "--state", "memory",
            "--listen", f"127.0.0.1:{port}"]  # fmt: skip
    child = subprocess.Popen(
        [sys.executable, "-m", "distillguard.cli.main", *argv,
         *(["--watermark-key", str(key_file[1])] if marked else [])],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # printed before it listens
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert line.startswith("gateway: monitor mode")
    assert "http://gw:***@127.0.0.1:9" in line and "hunter2" not in line  # a secret
    assert ("degraded answers watermarked with " + str(key_file[1]) in line) is marked
