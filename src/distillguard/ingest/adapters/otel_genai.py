"""OpenTelemetry GenAI spans exported as OTLP/JSON (ExportTraceServiceRequest per line).

Spans whose gen_ai.operation.name is an inference operation become exchanges; other spans
(tool executions, HTTP, embeddings) are skipped. Message content is opt-in in the
conventions. The latest ones put it on the span: gen_ai.input.messages /
gen_ai.output.messages / gen_ai.system_instructions hold JSON (as a string or a structured
value) of {role, parts: [{type, content, ...}], finish_reason}; a `system` message among the
input messages is the system prompt. v1.30 puts it in log records instead: ingest joins a
logs file given with the spans by trace and span id (see otel_logs), and the joined
content fills what the span lacks. The conventions name no billing account, so account_id
is read from user.id / enduser.id / tenant.id attributes (span or resource) by default;
point it elsewhere with --mapping.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from distillguard.ingest.adapters.base import Adapter, FieldMapping, epoch_or_text_timestamp
from distillguard.ingest.adapters.http_status import status_from_code, status_from_error
from distillguard.ingest.adapters.otel_logs import Content, span_key
from distillguard.ingest.adapters.otel_values import attributes
from distillguard.schema.validate import Row, RowError

INFERENCE_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})
FINISH_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_call": "tool_use",
    "tool_calls": "tool_use",  # OpenAI's name, which the OpenAI instrumentation passes on
    "function_call": "tool_use",
    "content_filter": "refusal",
}
SYSTEM_ROLES = ("system", "developer")

# Content capture is opt-in: without it the exchange keeps its metadata and one user turn
# with no blocks, which the signals read as "content not retained".
CONTENT_NOT_CAPTURED: list[Row] = [{"role": "user", "content": []}]

OTEL_MAPPING = FieldMapping(
    {
        "request_id": ("gen_ai.response.id", "span.spanId"),
        "account_id": ("user.id", "enduser.id", "tenant.id"),
        "api_key_id": ("gen_ai.api_key.id",),
        "ip": ("client.address",),
        "user_agent": ("user_agent.original",),
        "access_path": (),
        "asn": (),
        "country": (),
    }
)


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return []
    return value if isinstance(value, list) else []


def _part_block(part: Any) -> Row | None:
    if not isinstance(part, Mapping):
        return None
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "text": part.get("content")}
    if kind == "tool_call":
        return {"type": "tool_use", "name": part.get("name")}
    if kind == "tool_call_response":
        result = part.get("result", part.get("response"))
        text = result if isinstance(result, str) else orjson.dumps(result).decode()
        return {"type": "tool_result", "text": text}
    if kind == "reasoning":
        return {"type": "thinking", "text": part.get("content")}
    if kind in ("blob", "uri", "file") and part.get("modality") == "image":
        return {"type": "image", "media_type": part.get("mime_type")}
    return None


def _message(message: Mapping[str, Any]) -> Row:
    blocks = [_part_block(p) for p in message.get("parts") or []]
    return {"role": message.get("role"), "content": [b for b in blocks if b is not None]}


def _text_of(messages: list[Row]) -> str | None:
    texts = [b.get("text") or "" for m in messages for b in m["content"] if b["type"] == "text"]
    return "\n".join(texts) if texts else None


def _system(instructions: Any, input_messages: list[Any]) -> str | None:
    """gen_ai.system_instructions (parts, or plain text), else the system-role messages."""
    if isinstance(instructions, str) and not instructions.lstrip().startswith("["):
        return instructions
    parts = _json_list(instructions)
    if not parts:
        parts = [p for m in input_messages if m.get("role") in SYSTEM_ROLES
                 for p in _list(m.get("parts"))]  # fmt: skip
    texts = [p.get("content") for p in parts if isinstance(p, Mapping)]
    return "\n".join(t for t in texts if isinstance(t, str)) or None


def _tool_names(value: Any) -> list[str] | None:
    decoded = _json_list(value)
    if not decoded:
        return None
    names = [d.get("name") or (d.get("function") or {}).get("name") for d in decoded]
    return [n for n in names if isinstance(n, str)]


def _finish_reason(attrs: Mapping[str, Any], output: list[Any]) -> Any:
    """The span's finish reason; streamed spans carry none, but their output messages do."""
    reasons = _list(attrs.get("gen_ai.response.finish_reasons")) or [
        m.get("finish_reason") for m in output if m.get("finish_reason")
    ]
    reason = reasons[0] if reasons else None
    return FINISH_REASONS.get(reason, reason) if isinstance(reason, str) else None


def _status(span: Mapping[str, Any], attrs: Mapping[str, Any]) -> int | None:
    error, status = attrs.get("error.type"), span.get("status") or {}
    if error is None and status.get("code") in (None, 0, 1, "STATUS_CODE_OK", "STATUS_CODE_UNSET"):
        return 200
    return status_from_code(error) or status_from_error(error, status.get("message"))


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [m for m in _json_list(value) if isinstance(m, Mapping)]


class OtelGenAIAdapter(Adapter):
    name = "otel-genai"
    description = "OpenTelemetry GenAI spans as OTLP/JSON (ExportTraceServiceRequest lines)"
    default_mapping = OTEL_MAPPING
    content: Mapping[str, Content] = {}
    paths_from_record = False

    def matches(self, record: Any) -> bool:
        return isinstance(record, Mapping) and "resourceSpans" in record

    def joined(self, content: Mapping[str, Content]) -> OtelGenAIAdapter:
        """This adapter with message content from log records, keyed by span."""
        adapter = OtelGenAIAdapter(self.mapping)
        adapter.content = content
        return adapter

    def convert(self, record: Any) -> Iterator[Row | RowError]:
        request = self.require_object(record)
        if not isinstance(request.get("resourceSpans"), list):  # else it read as no span
            raise RowError("not an OTLP trace export: no resourceSpans list")
        for resource_spans in request["resourceSpans"]:
            resource = attributes((resource_spans.get("resource") or {}).get("attributes"))
            for scope_spans in resource_spans.get("scopeSpans") or []:
                for span in scope_spans.get("spans") or []:
                    attrs = {**resource, **attributes(span.get("attributes"))}
                    if attrs.get("gen_ai.operation.name") in INFERENCE_OPERATIONS:
                        yield self._one(span, attrs)

    def _one(self, span: Mapping[str, Any], attrs: dict[str, Any]) -> Row | RowError:
        """A span's exchange, or why it cannot be read: an exporter batches hundreds of
        spans to a line, and one odd span cost every other in it."""
        key = span_key(span.get("traceId"), span.get("spanId"))
        try:
            return self._exchange(span, {**self.content.get(key, {}), **attrs})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return RowError(f"span {span.get('spanId')!s}: {type(exc).__name__}: {exc}")

    def _exchange(self, span: Mapping[str, Any], attrs: dict[str, Any]) -> Row:
        view = {**attrs, "span": span}
        row: Row = {name: self.mapping.get(view, name) for name in OTEL_MAPPING.paths}
        start, end = span.get("startTimeUnixNano"), span.get("endTimeUnixNano")
        sent = _objects(attrs.get("gen_ai.input.messages"))
        output = _objects(attrs.get("gen_ai.output.messages"))
        conversation = [_message(m) for m in sent if m.get("role") not in SYSTEM_ROLES]
        row.update(
            ts=epoch_or_text_timestamp(int(start)) if start is not None else None,
            latency_ms=(int(end) - int(start)) // 1_000_000 if start and end else None,
            model=attrs.get("gen_ai.request.model") or attrs.get("gen_ai.response.model"),
            max_tokens=attrs.get("gen_ai.request.max_tokens"),
            temperature=attrs.get("gen_ai.request.temperature"),
            tools=_tool_names(attrs.get("gen_ai.tool.definitions")),
            system=_system(attrs.get("gen_ai.system_instructions"), sent),
            messages=conversation or CONTENT_NOT_CAPTURED,
            status=_status(span, attrs),
            stop_reason=_finish_reason(attrs, output),
            input_tokens=attrs.get("gen_ai.usage.input_tokens"),
            output_tokens=attrs.get("gen_ai.usage.output_tokens"),
            reasoning_tokens=attrs.get("gen_ai.usage.reasoning.output_tokens"),
            output_text=_text_of([_message(m) for m in output]),
        )
        return row


def _list(value: Any) -> list[Any]:
    """A list attribute as a list: one value given alone (a string where the convention
    has an array: "stop" was read as its first letter) is a list of one."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
