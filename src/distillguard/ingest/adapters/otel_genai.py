"""OpenTelemetry GenAI spans exported as OTLP/JSON (ExportTraceServiceRequest per line).

Spans whose gen_ai.operation.name is an inference operation become exchanges; other spans
(tool executions, HTTP, embeddings) are skipped. Message content is opt-in in the
conventions: gen_ai.input.messages / gen_ai.output.messages / gen_ai.system_instructions
hold JSON (as a string or a structured value) of {role, parts: [{type, content, ...}]}.
The conventions name no billing account, so account_id is read from user.id / enduser.id /
tenant.id attributes by default; point it elsewhere with --mapping.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from distillguard.ingest.adapters.base import Adapter, FieldMapping, epoch_or_text_timestamp
from distillguard.schema.validate import Row

INFERENCE_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})
FINISH_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_call": "tool_use"}

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


def any_value(value: Mapping[str, Any]) -> Any:
    """Decode an OTLP/JSON AnyValue (int64 values arrive as strings)."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [any_value(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return attributes(value["kvlistValue"].get("values", []))
    return None


def attributes(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return {a["key"]: any_value(a.get("value") or {}) for a in items if isinstance(a, Mapping)}


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value


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


def _message(message: Any) -> Row | None:
    if not isinstance(message, Mapping):
        return None
    parts = message.get("parts") or []
    blocks = [b for b in (_part_block(p) for p in parts) if b is not None]
    return {"role": message.get("role"), "content": blocks}


def _messages(value: Any) -> list[Row]:
    decoded = _json_value(value)
    if not isinstance(decoded, list):
        return []
    return [m for m in (_message(x) for x in decoded) if m is not None]


def _text_of(messages: list[Row]) -> str | None:
    texts = [b.get("text") or "" for m in messages for b in m["content"] if b["type"] == "text"]
    return "\n".join(texts) if texts else None


def _system(value: Any) -> str | None:
    decoded = _json_value(value)
    if isinstance(decoded, list):
        parts = [p.get("content") for p in decoded if isinstance(p, Mapping)]
        texts = [p for p in parts if isinstance(p, str)]
        return "\n".join(texts) if texts else None
    return decoded if isinstance(decoded, str) else None


def _tool_names(value: Any) -> list[str] | None:
    decoded = _json_value(value)
    if not isinstance(decoded, list):
        return None
    names = [d.get("name") or (d.get("function") or {}).get("name") for d in decoded]
    return [n for n in names if isinstance(n, str)]


def _status(span: Mapping[str, Any], attrs: Mapping[str, Any]) -> int | None:
    error = attrs.get("error.type")
    if isinstance(error, str) and error.isdigit():
        return int(error)
    code = (span.get("status") or {}).get("code")
    return (
        200 if code in (None, 0, 1, "STATUS_CODE_OK", "STATUS_CODE_UNSET") and not error else None
    )


class OtelGenAIAdapter(Adapter):
    name = "otel-genai"
    description = "OpenTelemetry GenAI spans as OTLP/JSON (ExportTraceServiceRequest lines)"
    default_mapping = OTEL_MAPPING

    def matches(self, record: Any) -> bool:
        return isinstance(record, Mapping) and "resourceSpans" in record

    def convert(self, record: Any) -> Iterator[Row]:
        request = self.require_object(record)
        for resource_spans in request.get("resourceSpans") or []:
            resource = attributes((resource_spans.get("resource") or {}).get("attributes"))
            for scope_spans in resource_spans.get("scopeSpans") or []:
                for span in scope_spans.get("spans") or []:
                    attrs = {**resource, **attributes(span.get("attributes"))}
                    if attrs.get("gen_ai.operation.name") in INFERENCE_OPERATIONS:
                        yield self._exchange(span, attrs)

    def _exchange(self, span: Mapping[str, Any], attrs: dict[str, Any]) -> Row:
        view = {**attrs, "span": span}
        row: Row = {name: self.mapping.get(view, name) for name in OTEL_MAPPING.paths}
        start, end = span.get("startTimeUnixNano"), span.get("endTimeUnixNano")
        output = _messages(attrs.get("gen_ai.output.messages"))
        reasons = attrs.get("gen_ai.response.finish_reasons") or [None]
        row.update(
            ts=epoch_or_text_timestamp(int(start)) if start is not None else None,
            latency_ms=(int(end) - int(start)) // 1_000_000 if start and end else None,
            model=attrs.get("gen_ai.request.model") or attrs.get("gen_ai.response.model"),
            max_tokens=attrs.get("gen_ai.request.max_tokens"),
            temperature=attrs.get("gen_ai.request.temperature"),
            tools=_tool_names(attrs.get("gen_ai.tool.definitions")),
            system=_system(attrs.get("gen_ai.system_instructions")),
            messages=_messages(attrs.get("gen_ai.input.messages")) or CONTENT_NOT_CAPTURED,
            status=_status(span, attrs),
            stop_reason=FINISH_REASONS.get(reasons[0], reasons[0]),
            input_tokens=attrs.get("gen_ai.usage.input_tokens"),
            output_tokens=attrs.get("gen_ai.usage.output_tokens"),
            reasoning_tokens=attrs.get("gen_ai.usage.reasoning.output_tokens"),
            output_text=_text_of(output),
        )
        return row
