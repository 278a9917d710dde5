"""Message content from OpenTelemetry GenAI events (OTLP/JSON ExportLogsServiceRequest).

The v1.30 conventions, and the instrumentations still on them (opentelemetry-
instrumentation-openai-v2 by default), keep message content off the span: each message is
a log record (event) with the span's traceId and spanId, named gen_ai.system.message,
gen_ai.user.message, gen_ai.assistant.message, gen_ai.tool.message or gen_ai.choice. This
turns a span's events into the attributes the latest conventions put on the span itself
(gen_ai.input.messages, gen_ai.output.messages, gen_ai.system_instructions), so the span
adapter reads both generations one way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from distillguard.ingest.adapters.base import lookup
from distillguard.ingest.adapters.otel_values import any_value, attributes

Content = dict[str, list[Any]]
_INPUT_ROLES = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
CHOICE = "gen_ai.choice"
_CONTENT_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions")


def is_otel_logs(record: Any) -> bool:
    return isinstance(record, Mapping) and "resourceLogs" in record


def span_key(trace_id: Any, span_id: Any) -> str:
    return f"{trace_id}/{span_id}"


def _records(request: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for resource_logs in request.get("resourceLogs") or []:
        for scope_logs in resource_logs.get("scopeLogs") or []:
            yield from scope_logs.get("logRecords") or []


def _event_name(record: Mapping[str, Any]) -> Any:
    """OTLP's eventName field; older SDKs sent it as the event.name attribute."""
    return record.get("eventName") or attributes(record.get("attributes")).get("event.name")


def _text_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    if isinstance(content, list):  # content given as OpenAI-style parts
        texts = [p.get("text") for p in content if isinstance(p, Mapping)]
        return [{"type": "text", "content": t} for t in texts if isinstance(t, str)]
    return []


def _parts(body: Mapping[str, Any], role: str) -> list[dict[str, Any]]:
    if role == "tool":
        return [
            {"type": "tool_call_response", "id": body.get("id"), "response": body.get("content")}
        ]
    parts = _text_parts(body.get("content"))
    for call in body.get("tool_calls") or []:
        if isinstance(call, Mapping):
            name = lookup(call, "function.name")
            parts.append({"type": "tool_call", "id": call.get("id"), "name": name})
    return parts


def _add_event(content: Content, name: Any, body: Any) -> None:
    body = body if isinstance(body, Mapping) else {}
    if name == CHOICE:
        message = body.get("message") if isinstance(body.get("message"), Mapping) else {}
        role = message.get("role") or "assistant"
        output = {"role": role, "parts": _parts(message, role)}
        content["gen_ai.output.messages"].append(
            {**output, "finish_reason": body.get("finish_reason")}
        )
    elif name == "gen_ai.system.message":
        content["gen_ai.system_instructions"] += _text_parts(body.get("content"))
    elif name in _INPUT_ROLES:
        role = _INPUT_ROLES[name]
        content["gen_ai.input.messages"].append({"role": role, "parts": _parts(body, role)})


def content_by_span(requests: Iterable[Any]) -> dict[str, Content]:
    """Span attributes in the latest conventions' shape, keyed by span_key, from the
    events of any number of ExportLogsServiceRequest records, in the order they came."""
    spans: dict[str, Content] = {}
    for request in requests:
        if not is_otel_logs(request):
            continue
        for record in _records(request):
            name = _event_name(record)
            if name != CHOICE and name not in _INPUT_ROLES:
                continue
            key = span_key(record.get("traceId"), record.get("spanId"))
            content = spans.setdefault(key, {k: [] for k in _CONTENT_KEYS})
            _add_event(content, name, any_value(record.get("body") or {}))
    return {key: {k: v for k, v in c.items() if v} for key, c in spans.items()}
