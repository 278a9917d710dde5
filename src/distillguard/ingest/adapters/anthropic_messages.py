"""Anthropic Messages API request/response pairs.

Request: {model, system: str | [text blocks], messages: [{role, content: str | [blocks]}],
max_tokens, temperature, tools: [{name}], thinking: {type: "enabled", budget_tokens}}.
Response: {id, type: "message", content: [text | thinking | tool_use blocks], stop_reason,
usage: {input_tokens, output_tokens}}.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from distillguard.ingest.adapters.base import Adapter, lookup
from distillguard.ingest.adapters.pair_log import PAIR_MAPPING, body, metadata_fields
from distillguard.schema.validate import Row


def _tool_result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(b.get("text") or "") for b in content if isinstance(b, Mapping))
    return ""


def _block(block: Any) -> Row | None:
    if isinstance(block, str):
        return {"type": "text", "text": block}
    if not isinstance(block, Mapping):
        return None
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": block.get("text")}
    if kind == "image":
        return {"type": "image", "media_type": lookup(block, "source.media_type")}
    if kind == "document":
        return {"type": "document", "media_type": lookup(block, "source.media_type")}
    if kind in ("tool_use", "server_tool_use"):
        return {"type": "tool_use", "name": block.get("name")}
    if kind == "tool_result":
        return {"type": "tool_result", "text": _tool_result_text(block.get("content"))}
    if kind in ("thinking", "redacted_thinking"):
        return {"type": "thinking", "text": block.get("thinking")}
    return None


def _blocks(content: Any) -> list[Row]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        return []
    return [b for b in (_block(x) for x in content) if b is not None]


def _system_text(system: Any) -> str | None:
    if system is None or isinstance(system, str):
        return system
    texts = [b.get("text") or "" for b in _blocks(system) if b["type"] == "text"]
    return "\n".join(texts) if texts else None


def _messages(messages: Any) -> list[Row]:
    if not isinstance(messages, list):
        return []
    return [
        {"role": m.get("role"), "content": _blocks(m.get("content"))}
        for m in messages
        if isinstance(m, Mapping)
    ]


def anthropic_response_fields(response: Mapping[str, Any]) -> Row:
    blocks = _blocks(response.get("content"))
    text = "".join(b.get("text") or "" for b in blocks if b["type"] == "text")
    return {
        "output_text": text or None,
        "stop_reason": response.get("stop_reason"),
        "input_tokens": lookup(response, "usage.input_tokens"),
        "output_tokens": lookup(response, "usage.output_tokens"),
    }


def anthropic_request_fields(request: Mapping[str, Any]) -> Row:
    tools = request.get("tools")
    thinking = request.get("thinking")
    budget = thinking.get("budget_tokens") if isinstance(thinking, Mapping) else None
    return {
        "model": request.get("model"),
        "system": _system_text(request.get("system")),
        "messages": _messages(request.get("messages")),
        "max_tokens": request.get("max_tokens"),
        "temperature": request.get("temperature"),
        "thinking_budget": budget,
        "tools": [t.get("name") for t in tools if isinstance(t, Mapping)]
        if isinstance(tools, list)
        else None,
    }


class AnthropicMessagesAdapter(Adapter):
    name = "anthropic-messages"
    description = "Anthropic Messages API request/response pairs with metadata"
    default_mapping = PAIR_MAPPING
    body_fields: ClassVar[Mapping[str, str]] = {
        "model": "`model` of the request (or of the response)",
        "max_tokens": "`max_tokens` of the request",
        "temperature": "`temperature` of the request",
        "thinking_budget": "`thinking.budget_tokens` of the request",
        "input_tokens": "`usage.input_tokens` of the response",
        "output_tokens": "`usage.output_tokens` of the response",
    }

    def matches(self, record: Any) -> bool:
        if not isinstance(record, Mapping):
            return False
        response = body(self.mapping, record, "response")
        return response.get("type") == "message" or (
            "messages" in body(self.mapping, record, "request")
            and isinstance(response.get("content"), list)
        )

    def convert(self, record: Any) -> Iterator[Row]:
        record = self.require_object(record)
        request = body(self.mapping, record, "request")
        response = body(self.mapping, record, "response")
        row = metadata_fields(self.mapping, record)
        row.update(anthropic_request_fields(request))
        row.update(anthropic_response_fields(response))
        row["model"] = row["model"] or response.get("model")
        yield row
