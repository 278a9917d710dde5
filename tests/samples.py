"""Realistic sample records of each log shape, written from the formats' public documentation:
OTLP/JSON with the OpenTelemetry GenAI semantic conventions, LiteLLM's StandardLoggingPayload,
and OpenAI Chat Completions / Anthropic Messages request and response bodies."""

from __future__ import annotations

from typing import Any

import orjson


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}  # OTLP/JSON int64 is a string
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, list):
        return {
            "key": key,
            "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}},
        }
    return {"key": key, "value": {"stringValue": value}}


def otel_request(spans: list[dict[str, Any]]) -> dict[str, Any]:
    """An ExportTraceServiceRequest holding the given spans."""
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [_attr("service.name", "support-bot"), _attr("tenant.id", "t-9")]
                },
                "scopeSpans": [
                    {"scope": {"name": "opentelemetry.instrumentation.openai_v2"}, "spans": spans}
                ],
            }
        ]
    }


def otel_chat_span(content: bool = True, response_id: str = "chatcmpl-AbC123") -> dict[str, Any]:
    attrs = [
        _attr("gen_ai.operation.name", "chat"),
        _attr("gen_ai.provider.name", "openai"),
        _attr("gen_ai.request.model", "gpt-4o"),
        _attr("gen_ai.request.max_tokens", 512),
        _attr("gen_ai.request.temperature", 0.2),
        _attr("gen_ai.response.id", response_id),
        _attr("gen_ai.response.model", "gpt-4o-2024-08-06"),
        _attr("gen_ai.response.finish_reasons", ["stop"]),
        _attr("gen_ai.usage.input_tokens", 97),
        _attr("gen_ai.usage.output_tokens", 52),
        _attr("server.address", "api.openai.com"),
        _attr("user.id", "acct-42"),
        _attr("client.address", "203.0.113.7"),
    ]
    if content:
        messages = [
            {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
            {
                "role": "assistant",
                "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather"}],
            },
            {
                "role": "tool",
                "parts": [{"type": "tool_call_response", "id": "call_1", "result": "rainy, 57F"}],
            },
        ]
        output = [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "It is rainy, 57F."}],
                "finish_reason": "stop",
            }
        ]
        attrs += [
            _attr("gen_ai.input.messages", orjson.dumps(messages).decode()),
            _attr("gen_ai.output.messages", orjson.dumps(output).decode()),
            _attr(
                "gen_ai.system_instructions",
                orjson.dumps([{"type": "text", "content": "You are a weather bot."}]).decode(),
            ),
            _attr(
                "gen_ai.tool.definitions",
                orjson.dumps([{"type": "function", "name": "get_weather"}]).decode(),
            ),
        ]
    return {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "chat gpt-4o",
        "kind": 3,
        "startTimeUnixNano": "1770730000000000000",
        "endTimeUnixNano": "1770730001250000000",
        "attributes": attrs,
        "status": {},
    }


def otel_tool_span() -> dict[str, Any]:
    return {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "aaa19b7ec3c1b175",
        "name": "execute_tool get_weather",
        "startTimeUnixNano": "1770730000500000000",
        "endTimeUnixNano": "1770730000600000000",
        "attributes": [_attr("gen_ai.operation.name", "execute_tool")],
    }


def _merge_answer(ident: str) -> dict[str, Any]:
    """A Chat Completions response to the merge question both LiteLLM samples ask."""
    return {
        "id": ident,
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "def merge(a, b): ..."},
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 860},
    }


def litellm_payload(minimal: bool = False) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": "chatcmpl-9f3c2a",
        "trace_id": "b1e2",
        "call_type": "acompletion",
        "status": "success",
        "startTime": 1770730000.25,
        "endTime": 1770730003.75,
        "model": "claude-sonnet-4-5",
        "model_group": "claude-sonnet",
        "api_base": "https://api.anthropic.com",
        "prompt_tokens": 120,
        "completion_tokens": 860,
        "total_tokens": 980,
        "messages": [
            {"role": "system", "content": "You are a coding assistant."},
            {"role": "user", "content": "Write a function that merges two sorted lists."},
        ],
        "response": _merge_answer("chatcmpl-9f3c2a"),
        "model_parameters": {"max_tokens": 2048, "temperature": 0.0},
        "metadata": {
            "user_api_key_hash": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
            "user_api_key_alias": "ci-bot",
            "user_api_key_team_id": "team-alpha",
            "user_api_key_user_id": "user-7",
            "requester_ip_address": "198.51.100.23",
            "user_agent": "litellm/1.77.0",
        },
    }
    if minimal:
        payload["metadata"] = {"user_api_key_hash": "k-hash-only"}
        payload["id"] = "chatcmpl-minimal"
        for key in ("model_group", "api_base", "endTime", "total_tokens", "response"):
            payload.pop(key)
    return payload


def litellm_spend_log(minimal: bool = False) -> dict[str, Any]:
    """A LiteLLM_SpendLogs row as `row_to_json` exports it, with the proxy storing prompts;
    minimal: without them, its JSON columns as text and its times without a zone, as a CSV
    or text export of the table gives them."""
    row: dict[str, Any] = {
        "request_id": "chatcmpl-5d1e",
        "call_type": "acompletion",
        "api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
        "spend": 0.0132,
        "total_tokens": 980,
        "prompt_tokens": 120,
        "completion_tokens": 860,
        "startTime": "2026-02-10T13:26:40.250+00:00",
        "endTime": "2026-02-10T13:26:43.750+00:00",
        "request_duration_ms": 3500,
        "model": "anthropic/claude-sonnet-4-5",
        "model_group": "claude-sonnet",
        "user": "user-7",
        "team_id": "team-alpha",
        "organization_id": None,
        "end_user": "",
        "requester_ip_address": "198.51.100.23",
        "status": "success",
        "metadata": {"user_api_key_alias": "ci-bot", "user_api_key_team_id": "team-alpha"},
        "messages": {},
        "proxy_server_request": {
            "model": "claude-sonnet",
            "messages": [
                {"role": "system", "content": "You are a coding assistant."},
                {"role": "user", "content": "Write a function that merges two sorted lists."},
            ],
            "max_tokens": 2048,
            "temperature": 0.0,
        },
        "response": _merge_answer("chatcmpl-5d1e"),
    }
    if minimal:
        row.update(
            request_id="chatcmpl-5d1f",
            startTime="2026-02-10 13:30:00.000",
            endTime="2026-02-10 13:30:01.500",
            request_duration_ms=None,
            user="",
            team_id="",
            metadata='{"user_api_key_alias": null}',
            proxy_server_request="{}",
            response="{}",
            messages="{}",
        )
    return row


def openai_pair(minimal: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {
        "request": {
            "model": "gpt-4.1",
            "messages": [
                {"role": "developer", "content": "Answer briefly."},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is in this image?"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    ],
                },
            ],
            "max_completion_tokens": 300,
            "temperature": 0.5,
            "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
        },
        "response": {
            "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
            "object": "chat.completion",
            "created": 1770730000,
            "model": "gpt-4.1-2025-04-14",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "A cat on a sofa."},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": 19,
                "completion_tokens": 10,
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        },
        "metadata": {
            "account_id": "org-123",
            "api_key_id": "key-abc",
            "ip": "192.0.2.10",
            "user_agent": "OpenAI/Python 1.99.0",
            "timestamp": "2026-02-10T13:45:12.345Z",
            "status": 200,
            "latency_ms": 812,
        },
    }
    if minimal:
        record["metadata"] = {"account_id": "org-123", "timestamp": "2026-02-10T13:45:13Z"}
        record["response"]["id"] = "chatcmpl-minimal"
        record["request"].pop("tools")
        record["request"].pop("temperature")
        record["response"].pop("usage")
    return record


def anthropic_pair(minimal: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {
        "request": {
            "model": "claude-opus-4-1",
            "max_tokens": 16000,
            "system": [{"type": "text", "text": "You are a careful mathematician."}],
            "thinking": {"type": "enabled", "budget_tokens": 10000},
            "messages": [
                {"role": "user", "content": "Prove that there are infinitely many primes."},
            ],
            "tools": [{"name": "calculator", "input_schema": {"type": "object"}}],
        },
        "response": {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "model": "claude-opus-4-1-20250805",
            "content": [
                {"type": "thinking", "thinking": "Suppose finitely many...", "signature": "x"},
                {"type": "text", "text": "Assume p1..pn are all primes; consider N = p1...pn + 1."},
            ],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 30, "output_tokens": 420},
        },
        "metadata": {
            "account_id": "acct-anthropic-1",
            "api_key_id": "key-77",
            "ip": "2001:db8::1",
            "user_agent": "anthropic-python/0.72.0",
            "timestamp": 1770730000.5,
        },
    }
    if minimal:
        record["request"] = {
            "model": "claude-haiku-4-5",
            "max_tokens": 100,
            "messages": [{"role": "user", "content": "hi"}],
        }
        record["response"] = {"id": "msg_02", "type": "message", "content": []}
        record["metadata"] = {"account_id": "acct-anthropic-2", "timestamp": "2026-02-10T13:45:00Z"}
    return record


def exchange_row(index: int = 0, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "request_id": f"req-{index:06d}",
        "ts": f"2026-02-{10 + index % 3:02d}T13:{index % 60:02d}:12.345Z",
        "account_id": f"acct-{index % 17}",
        "api_key_id": f"key-{index % 17}",
        "access_path": "api",
        "ip": "203.0.113.9",
        "asn": 64500,
        "country": "DE",
        "user_agent": "anthropic-python/0.72.0",
        "model": "model-a",
        "max_tokens": 1024,
        "temperature": 0.7,
        "tools": ["bash"],
        "system": "You are helpful.",
        "messages": [
            {"role": "user", "content": f"Question number {index}?"},
            {"role": "assistant", "content": [{"type": "tool_use", "name": "bash"}]},
            {"role": "tool", "content": [{"type": "tool_result", "name": "bash", "text": "ok"}]},
        ],
        "status": 200,
        "stop_reason": "end_turn",
        "input_tokens": 20,
        "output_tokens": 200,
        "latency_ms": 900,
        "output_text": "An answer.",
    }
    row.update(overrides)
    return row


# One sample of every registered adapter's shape, by adapter name: the conformance test
# runs each adapter over its own sample and every other adapter's.
SAMPLES: dict[str, list[Any]] = {
    "exchange-log": [exchange_row(1), exchange_row(2, tools=None, system=None)],
    "otel-genai": [
        otel_request([otel_chat_span(), otel_tool_span()]),
        otel_request([otel_chat_span(content=False, response_id="chatcmpl-nocontent")]),
    ],
    "litellm": [litellm_payload(), litellm_payload(minimal=True)],
    "litellm-spend-logs": [litellm_spend_log(), litellm_spend_log(minimal=True)],
    "openai-chat": [openai_pair(), openai_pair(minimal=True)],
    "anthropic-messages": [anthropic_pair(), anthropic_pair(minimal=True)],
}
