"""OpenAI Chat Completions request/response pairs, and the message conversion LiteLLM shares.

Request: {model, messages, max_tokens | max_completion_tokens, temperature, tools, ...}.
Response: {id, choices: [{message, finish_reason}], usage: {prompt_tokens, completion_tokens,
completion_tokens_details: {reasoning_tokens}}}.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from distillguard.ingest.adapters.base import Adapter, lookup
from distillguard.ingest.adapters.pair_log import PAIR_MAPPING, body, metadata_fields
from distillguard.schema.validate import Row

FINISH_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
_SYSTEM_ROLES = ("system", "developer")


def _text_block(text: str) -> Row:
    return {"type": "text", "text": text}


def _part_block(part: Any) -> Row | None:
    """One content part of an OpenAI message as an exchange-log block."""
    if isinstance(part, str):
        return _text_block(part)
    if not isinstance(part, Mapping):
        return None
    kind = part.get("type")
    if kind == "text":
        return _text_block(str(part.get("text") or ""))
    if kind in ("image_url", "input_image", "image"):
        return {"type": "image", "media_type": _image_media_type(part)}
    return None


def _image_media_type(part: Mapping[str, Any]) -> str | None:
    url = lookup(part, "image_url.url") or part.get("image_url")
    if isinstance(url, str) and url.startswith("data:") and ";" in url:
        return url[5 : url.index(";")]
    return None


def _content_blocks(content: Any) -> list[Row]:
    if content is None:
        return []
    if isinstance(content, str):
        return [_text_block(content)]
    if isinstance(content, list):
        return [b for b in (_part_block(p) for p in content) if b is not None]
    return []


def openai_message(message: Mapping[str, Any]) -> Row:
    """An OpenAI-format message (user, assistant with tool_calls, tool) as exchange-log."""
    role = message.get("role")
    blocks = _content_blocks(message.get("content"))
    for call in message.get("tool_calls") or []:
        blocks.append({"type": "tool_use", "name": lookup(call, "function.name")})
    if role in ("tool", "function"):
        role = "tool"
        text = " ".join(b.get("text") or "" for b in blocks)
        blocks = [{"type": "tool_result", "name": message.get("name"), "text": text}]
    return {"role": role, "content": blocks}


def split_openai_messages(messages: Any) -> tuple[str | None, list[Row]]:
    """System prompt (system/developer messages joined) and the remaining messages."""
    if not isinstance(messages, list):
        return None, []
    system_parts: list[str] = []
    rest: list[Row] = []
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        if message.get("role") in _SYSTEM_ROLES:
            system_parts.extend(
                b.get("text") or "" for b in _content_blocks(message.get("content"))
            )
        else:
            rest.append(openai_message(message))
    return ("\n".join(system_parts) if system_parts else None), rest


def openai_tool_names(tools: Any) -> list[str] | None:
    if not isinstance(tools, list):
        return None
    names = [lookup(t, "function.name") or lookup(t, "name") for t in tools]
    return [n for n in names if isinstance(n, str)]


def openai_response_fields(response: Mapping[str, Any]) -> Row:
    """Output text, stop reason and token counts of a Chat Completions response."""
    choices = response.get("choices") or [{}]
    first = choices[0] if isinstance(choices[0], Mapping) else {}
    message = first.get("message") or {}
    text = message.get("content") if isinstance(message, Mapping) else None
    return {
        "output_text": text if isinstance(text, str) else None,
        "stop_reason": stop_reason(first.get("finish_reason")),
        "input_tokens": lookup(response, "usage.prompt_tokens"),
        "output_tokens": lookup(response, "usage.completion_tokens"),
        "reasoning_tokens": lookup(response, "usage.completion_tokens_details.reasoning_tokens"),
    }


def _is_chunk(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("object") == "chat.completion.chunk"


def assembled(chunks: list[Any]) -> dict[str, Any]:
    """A streamed response's chunks as the one response they make: the first choice's
    text deltas joined, its last finish reason, the usage the last chunk carries (with
    stream_options.include_usage). Logged as chunks, its output was stored as nothing."""
    parts, finish, usage, model, ident = [], None, None, None, None
    for chunk in chunks:
        if not isinstance(chunk, Mapping):
            continue
        ident = ident or chunk.get("id")
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, Mapping) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            text = delta.get("content") if isinstance(delta, Mapping) else None
            parts.append(text if isinstance(text, str) else "")
            finish = choice.get("finish_reason") or finish
        usage = chunk.get("usage") or usage
        model = chunk.get("model") or model
    text = "".join(parts)
    message = {"role": "assistant", "content": text or None}  # a tool-call stream: no text
    return {"id": ident, "object": "chat.completion", "model": model, "usage": usage or {},
            "choices": [{"index": 0, "message": message, "finish_reason": finish}]}  # fmt: skip


def stop_reason(finish_reason: Any) -> Any:
    """exchange-log v1's stop_reason (`end_turn`, `max_tokens`, ...) for OpenAI's."""
    return (
        FINISH_REASONS.get(finish_reason, finish_reason) if isinstance(finish_reason, str) else None
    )


def openai_request_fields(request: Mapping[str, Any]) -> Row:
    system, messages = split_openai_messages(request.get("messages"))
    max_tokens = request.get("max_completion_tokens") or request.get("max_tokens")
    return {
        "model": request.get("model"),
        "system": system,
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": request.get("temperature"),
        "tools": openai_tool_names(request.get("tools")),
    }


class OpenAIChatAdapter(Adapter):
    name = "openai-chat"
    description = "OpenAI Chat Completions request/response pairs with metadata"
    default_mapping = PAIR_MAPPING
    body_fields: ClassVar[Mapping[str, str]] = {
        "model": "`model` of the request (or of the response)",
        "max_tokens": "`max_completion_tokens` or `max_tokens` of the request",
        "temperature": "`temperature` of the request",
        "input_tokens": "`usage.prompt_tokens` of the response",
        "output_tokens": "`usage.completion_tokens` of the response",
        "reasoning_tokens": "`usage.completion_tokens_details.reasoning_tokens` of the response",
    }

    def matches(self, record: Any) -> bool:
        if not isinstance(record, Mapping):
            return False
        request = body(self.mapping, record, "request")
        response = self._response(record)
        return "messages" in request and (
            "choices" in response or response.get("object") == "chat.completion"
        )

    def _response(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """The response; a streamed one (its chunks, or one chunk) put together."""
        found = self.mapping.get(record, "response")
        chunks = found if isinstance(found, list) else [found]
        if chunks and all(_is_chunk(c) for c in chunks):  # not another API's stream events
            return assembled(chunks)
        return found if isinstance(found, Mapping) else {}

    def convert(self, record: Any) -> Iterator[Row]:
        record = self.require_object(record)
        request = body(self.mapping, record, "request")
        response = self._response(record)
        row = metadata_fields(self.mapping, record)
        row.update(openai_request_fields(request))
        row.update(openai_response_fields(response))
        row["model"] = row["model"] or response.get("model")
        row["request_id"] = row["request_id"] or response.get("id")  # a stream's chunks
        yield row
