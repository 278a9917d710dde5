"""A small fake of the OpenAI and Anthropic APIs, served on loopback by the tests.

There is no internet here, so the model API the gateway sits in front of is this fake:
it answers Chat Completions and Messages (plain and streamed, with reasoning and tool
calls), records every request it receives, and can be told to be slow or to fail
(model "slow" sleeps `delay_s`, model "fail-500" answers 500, model "break-stream" drops a
stream after three events, model "drip-stream" waits `delay_s` before each event). It also
records webhooks.

A replay of a recorded log can have each request answered as the model answered it then:
`recorded` maps a request id to its exchange-log row, and a Chat Completions request
naming one in `metadata.replay_of` gets that row's token counts (output, reasoning, input)
and stop reason, and its output text where the log kept it.
"""

# ruff: noqa: E501  (wire-format fixtures read best one event a line)
from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.redis_server import free_port

REASONING = "First I consider the question carefully, then I check each step."
ANSWER = ["The answer ", "is 42."]
FINISH = {"end_turn": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


@dataclass
class FakeUpstream:
    url: str = ""
    delay_s: float = 2.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    recorded: dict[str, dict[str, Any]] = field(default_factory=dict)

    def seen(self, account_marker: str) -> list[dict[str, Any]]:
        """Requests whose prompt names the account as `[account]` (as the tests write it)."""
        marker = f"[{account_marker}]"
        return [r for r in self.requests if marker in orjson.dumps(r["body"]).decode()]


def _sse(events: list[tuple[str | None, Any]]) -> AsyncIterator[bytes]:
    async def gen() -> AsyncIterator[bytes]:
        for name, data in events:
            head = f"event: {name}\n" if name else ""
            payload = data if isinstance(data, str) else orjson.dumps(data).decode()
            yield f"{head}data: {payload}\n\n".encode()
            await asyncio.sleep(0)

    return gen()


CANNED = {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14}


def _answer(body: dict[str, Any], recorded: dict[str, dict[str, Any]]) -> tuple[str, Any, str]:
    """(text, usage, finish reason): as the log recorded it for a replayed request, or canned."""
    row = recorded.get(str((body.get("metadata") or {}).get("replay_of")))
    if row is None:
        return "".join(ANSWER), CANNED, "stop"
    prompt, completion = row.get("input_tokens") or 0, row.get("output_tokens") or 0
    usage = {"prompt_tokens": prompt, "completion_tokens": completion,
             "total_tokens": prompt + completion,
             "completion_tokens_details": {"reasoning_tokens": row.get("reasoning_tokens") or 0}}  # fmt: skip
    finish = FINISH.get(str(row.get("stop_reason")), "stop")
    return row.get("output_text") or "".join(ANSWER), usage, finish


def _openai(body: dict[str, Any], recorded: dict[str, dict[str, Any]]) -> Response:
    tools = bool(body.get("tools"))
    text, usage, finish = _answer(body, recorded)
    if body.get("stream"):
        chunks: list[tuple[str | None, Any]] = [
            (None, {"choices": [{"index": 0, "delta": {"reasoning_content": part}}]})
            for part in (REASONING[:20], REASONING[20:])
        ]
        chunks += [(None, {"choices": [{"index": 0, "delta": {"content": t}}]}) for t in ANSWER]
        chunks.append((None, {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                              "usage": {"prompt_tokens": 9, "completion_tokens": 5}}))  # fmt: skip
        chunks.append((None, "[DONE]"))
        return StreamingResponse(_sse(chunks), media_type="text/event-stream")
    message: dict[str, Any] = {"role": "assistant", "content": text,
                               "reasoning_content": REASONING}  # fmt: skip
    if tools:
        message["tool_calls"] = [{"id": "c1", "type": "function",
                                  "function": {"name": "run", "arguments": "{\"x\": 1}"}}]  # fmt: skip
    return JSONResponse({
        "id": "chatcmpl-1", "object": "chat.completion", "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    })  # fmt: skip


def _anthropic(body: dict[str, Any]) -> Response:
    if body.get("stream"):
        events: list[tuple[str | None, Any]] = [
            ("message_start", {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": body.get("model"), "content": [], "stop_reason": None, "usage": {"input_tokens": 9, "output_tokens": 1}}}),
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": REASONING[:20]}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": REASONING[20:]}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "sig"}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
            *[("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": t}}) for t in ANSWER],
            ("content_block_stop", {"type": "content_block_stop", "index": 1}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 5}}),
            ("message_stop", {"type": "message_stop"}),
        ]  # fmt: skip
        return StreamingResponse(_sse(events), media_type="text/event-stream")
    content: list[dict[str, Any]] = [
        {"type": "thinking", "thinking": REASONING, "signature": "sig"},
        {"type": "text", "text": "".join(ANSWER)},
    ]
    if body.get("tools"):
        content.append({"type": "tool_use", "id": "t1", "name": "run", "input": {"x": 1}})
    return JSONResponse({
        "id": "msg_1", "type": "message", "role": "assistant", "model": body.get("model"),
        "content": content, "stop_reason": "end_turn",
        "usage": {"input_tokens": 9, "output_tokens": 5},
    })  # fmt: skip


# Model "echo" answers with the last user message's text, so a test controls the answer:
# streamed in 7-character deltas that split words, then a tool call when the request declares
# tools. Its JSON is written with spaces (json.dumps), unlike the gateway's, so a test can
# tell a response relayed byte for byte from one parsed and written again.
ECHO = "echo"
ECHO_DELTA = 7
TOOL_ARGUMENTS = '{"query": "a big, large and often entire whole", "limit": 3}'


def _spaced(events: list[tuple[str | None, Any]]) -> Response:
    """An event stream with its JSON written with spaces (see ECHO)."""
    written = [(n, d if isinstance(d, str) else json.dumps(d)) for n, d in events]
    return StreamingResponse(_sse(written), media_type="text/event-stream")


def _spaced_json(payload: dict[str, Any]) -> Response:
    return Response(json.dumps(payload), media_type="application/json")


def echo_text(body: dict[str, Any]) -> str:
    content = body["messages"][-1]["content"]
    return content if isinstance(content, str) else ""


def _pieces(text: str) -> list[str]:
    return [text[i : i + ECHO_DELTA] for i in range(0, len(text), ECHO_DELTA)]


def _openai_echo_stream(body: dict[str, Any]) -> Response:
    tools = bool(body.get("tools"))
    head = {"id": "chatcmpl-e", "object": "chat.completion.chunk", "created": 1, "model": ECHO}
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": t} for t in _pieces(echo_text(body))]
    if tools:
        call = {
            "index": 0,
            "id": "c1",
            "type": "function",
            "function": {"name": "run", "arguments": ""},
        }
        deltas.append({"tool_calls": [call]})
        deltas += [
            {"tool_calls": [{"index": 0, "function": {"arguments": t}}]}
            for t in _pieces(TOOL_ARGUMENTS)
        ]
    chunks: list[tuple[str | None, Any]] = [
        (None, {**head, "choices": [{"index": 0, "delta": d, "finish_reason": None}]})
        for d in deltas
    ]
    finish = "tool_calls" if tools else "stop"
    chunks.append((None, {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}))
    chunks.append((None, "[DONE]"))
    return _spaced(chunks)


def _openai_echo(body: dict[str, Any]) -> Response:
    if body.get("stream"):
        return _openai_echo_stream(body)
    message: dict[str, Any] = {"role": "assistant", "content": echo_text(body)}
    if body.get("tools"):
        message["tool_calls"] = [{"id": "c1", "type": "function",
                                  "function": {"name": "run", "arguments": TOOL_ARGUMENTS}}]  # fmt: skip
    return _spaced_json({
        "id": "chatcmpl-e", "object": "chat.completion", "created": 1, "model": ECHO,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14},
    })  # fmt: skip


def _anthropic_echo_stream(body: dict[str, Any]) -> Response:
    message: dict[str, Any] = {"id": "msg_e", "type": "message", "role": "assistant", "model": ECHO,
                               "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 9, "output_tokens": 1}}  # fmt: skip
    events: list[tuple[str | None, Any]] = [
        ("message_start", {"type": "message_start", "message": message}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        *[("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}) for t in _pieces(echo_text(body))],
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ]  # fmt: skip
    if body.get("tools"):
        events += [
            ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "t1", "name": "run", "input": {}}}),
            *[("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": t}}) for t in _pieces(TOOL_ARGUMENTS)],
            ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        ]  # fmt: skip
    stop = "tool_use" if body.get("tools") else "end_turn"
    events += [
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 5}}),
        ("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    return _spaced(events)


def _anthropic_echo(body: dict[str, Any]) -> Response:
    if body.get("stream"):
        return _anthropic_echo_stream(body)
    content: list[dict[str, Any]] = [{"type": "text", "text": echo_text(body)}]
    if body.get("tools"):
        content.append(
            {"type": "tool_use", "id": "t1", "name": "run", "input": orjson.loads(TOOL_ARGUMENTS)}
        )
    return _spaced_json({
        "id": "msg_e", "type": "message", "role": "assistant", "model": ECHO, "content": content,
        "stop_reason": "tool_use" if body.get("tools") else "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 9, "output_tokens": 5},
    })  # fmt: skip


class BrokenOffError(ConnectionAbortedError):
    """What the fake raises to drop a stream: uvicorn then closes the connection without
    the chunked body's last chunk, as a provider's crash or a cut network would."""


def _broken_off(answer: Response) -> Response:
    """Model "break-stream": a stream's first three events, then the connection dropped."""
    if not isinstance(answer, StreamingResponse):
        return answer
    events = answer.body_iterator

    async def first_three() -> AsyncIterator[Any]:
        sent = 0
        async for event in events:
            yield event
            sent += 1
            if sent == 3:
                raise BrokenOffError("the fake upstream breaks off")

    answer.body_iterator = first_three()
    return answer


def _dripped(answer: Response, delay_s: float) -> Response:
    """Model "drip-stream": each event `delay_s` after the one before, as a long answer
    comes, so a client can leave in the middle."""
    if not isinstance(answer, StreamingResponse):
        return answer
    events = answer.body_iterator

    async def slowly() -> AsyncIterator[Any]:
        async for event in events:
            await asyncio.sleep(delay_s)
            yield event

    answer.body_iterator = slowly()
    return answer


def build(fake: FakeUpstream) -> Starlette:
    async def model(request: Request) -> Response:
        answer = await answer_model(request)
        answer.headers["x-request-id"] = "req_fake"  # what a provider's support asks for
        answer.headers["set-cookie"] = "upstream=1"  # never the client's
        return answer

    async def answer_model(request: Request) -> Response:
        body = orjson.loads(await request.body())
        fake.requests.append({"path": request.url.path, "query": request.url.query,
                              "body": body, "headers": dict(request.headers)})  # fmt: skip
        if body.get("model") == "rate-429":
            return JSONResponse({"error": {"message": "slow down"}}, 429, {"retry-after": "17"})
        if body.get("model") == ECHO:
            return (
                _anthropic_echo(body) if request.url.path == "/v1/messages" else _openai_echo(body)
            )
        if body.get("model") == "slow":
            await asyncio.sleep(fake.delay_s)
        if body.get("model") == "fail-500":
            return JSONResponse({"error": {"message": "overloaded"}}, 500)
        if request.url.path == "/v1/messages":
            answer = _anthropic(body)
        else:
            answer = _openai(body, fake.recorded)
        if body.get("model") == "drip-stream":
            return _dripped(answer, fake.delay_s)
        return _broken_off(answer) if body.get("model") == "break-stream" else answer

    async def webhook(request: Request) -> Response:
        fake.webhooks.append(orjson.loads(await request.body()))
        return JSONResponse({"ok": True})

    return Starlette(routes=[
        Route("/v1/chat/completions", model, methods=["POST"]),
        Route("/v1/messages", model, methods=["POST"]),
        Route("/webhook", webhook, methods=["POST"]),
    ])  # fmt: skip


@contextmanager
def serve_in_thread(app: Any, port: int | None = None) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a loopback port; its base URL while in the block."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on", access_log=False, proxy_headers=False)  # fmt: skip
    with running(config) as url:
        yield url


@contextmanager
def running(config: uvicorn.Config) -> Iterator[str]:
    """A uvicorn server of this config on a thread; its base URL while in the block."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{config.host}:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextmanager
def fake_upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream()
    with serve_in_thread(build(fake)) as url:
        fake.url = url
        yield fake
