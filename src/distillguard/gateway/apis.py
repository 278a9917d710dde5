"""What differs between the OpenAI Chat Completions and Anthropic Messages wire formats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeGuard

import orjson

from distillguard.ingest.adapters.openai_chat import stop_reason
from distillguard.schema.validate import INT64_MAX, INT64_MIN

ApiName = Literal["openai", "anthropic"]
PATHS: dict[str, ApiName] = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}


@dataclass(frozen=True)
class Refusal:
    """A response sent instead of calling the upstream, and why."""

    status: int
    kind: str
    message: str
    headers: tuple[tuple[str, str], ...] = ()
    extra: tuple[tuple[str, Any], ...] = ()

    def body(self, api: ApiName) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.kind, "message": self.message, **dict(self.extra)}
        if api == "anthropic":
            return {"type": "error", "error": error}
        return {"error": {**error, "code": self.kind}}

    def event(self, api: ApiName) -> bytes:
        """The refusal as a server-sent event, for a stream already under way: Anthropic's
        SDK raises on an `error` event, OpenAI's on a data line holding an `error`."""
        data = b"data: " + orjson.dumps(self.body(api)) + b"\n\n"
        return b"event: error\n" + data if api == "anthropic" else data


def _block(block: Any) -> dict[str, Any] | None:
    if isinstance(block, str):
        return {"type": "text", "text": block, "name": None, "media_type": None}
    if not isinstance(block, dict):
        return None
    kind = block.get("type")
    if kind == "text":
        return {
            "type": "text",
            "text": str(block.get("text", "")),
            "name": None,
            "media_type": None,
        }
    if kind in ("image", "image_url", "input_image"):
        return {"type": "image", "text": None, "name": None, "media_type": None}
    if kind == "tool_use":
        return {"type": "tool_use", "text": None, "name": block.get("name"), "media_type": None}
    if kind == "tool_result":
        text = block.get("content") if isinstance(block.get("content"), str) else None
        return {"type": "tool_result", "text": text, "name": None, "media_type": None}
    return None


def _content(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    items = [content] if isinstance(content, str) else content if isinstance(content, list) else []
    return [b for b in (_block(i) for i in items) if b is not None]


def log_messages(api: ApiName, body: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    """(system prompt, messages) of a request in exchange-log v1's shape."""
    system: str | None = None
    raw = body.get("messages")
    out: list[dict[str, Any]] = []
    for message in raw if isinstance(raw, list) else []:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        blocks = _content(message.get("content"))
        if role in ("system", "developer"):
            system = " ".join(b["text"] or "" for b in blocks)
            continue
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            blocks.append({"type": "tool_use", "text": None, "name": _call_name(call),
                           "media_type": None})  # fmt: skip
        out.append({"role": "tool" if role == "tool" else role, "content": blocks})
    if api == "anthropic" and body.get("system") is not None:
        sys_blocks = _content(body["system"])
        system = " ".join(b["text"] or "" for b in sys_blocks)
    return system, [m for m in out if m["role"] in ("user", "assistant", "tool")]


def _call_name(call: Any) -> str | None:
    """A tool call's function name; any other shape is the API's to refuse, and was a
    500 here before the key was even checked."""
    function = call.get("function") if isinstance(call, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    return name if isinstance(name, str) else None


def thinking_budget(body: dict[str, Any]) -> int | None:
    """`thinking.budget_tokens`: Anthropic Messages, and the same field that Anthropic's
    OpenAI-compatible Chat Completions endpoint accepts (OpenAI's own `reasoning_effort`
    names no budget)."""
    thinking = body.get("thinking")
    if isinstance(thinking, dict):
        budget = thinking.get("budget_tokens")
        return int(budget) if _int64(budget) else None
    return None


def tool_names(body: dict[str, Any]) -> list[str]:
    """The declared tools' names; tools that are not a list, or entries of no name, are
    the API's to refuse, not the gateway's to crash on."""
    tools = body.get("tools")
    names = []
    for tool in tools if isinstance(tools, list) else []:
        function = tool.get("function") if isinstance(tool, dict) else None
        name = tool.get("name") if isinstance(tool, dict) else None
        name = name or (function.get("name") if isinstance(function, dict) else None)
        if isinstance(name, str):
            names.append(name)
    return names


def max_tokens(api: ApiName, body: dict[str, Any]) -> int | None:
    """The request's output limit as the exchange log takes it (a count: not true, not
    negative, which the log's readers quarantine), else None."""
    value = body.get("max_tokens")
    if api == "openai" and value is None:
        value = body.get("max_completion_tokens")
    return value if _int64(value) and value >= 0 else None


def _int64(value: object) -> TypeGuard[int]:
    """An integer the log's int64 columns hold (true and false are not counts)."""
    return (
        isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX
    )


def usage(api: ApiName, response: dict[str, Any]) -> dict[str, Any]:
    """Output text, stop reason and token counts from a non-streamed response."""
    used = response.get("usage") or {}
    if api == "anthropic":
        blocks = response.get("content") or []
        text = "".join(b.get("text", "") for b in blocks if isinstance(b, dict))
        return {
            "output_text": text,
            "stop_reason": response.get("stop_reason"),
            "input_tokens": used.get("input_tokens"),
            "output_tokens": used.get("output_tokens"),
        }
    choice = (response.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    return {
        "output_text": message.get("content"),
        "stop_reason": stop_reason(choice.get("finish_reason")),
        "input_tokens": used.get("prompt_tokens"),
        "output_tokens": used.get("completion_tokens"),
        "reasoning_tokens": reasoning_tokens(used),
    }


def reasoning_tokens(usage: dict[str, Any]) -> int | None:
    """Hidden reasoning tokens, where the API counts them apart (OpenAI's usage details)."""
    details = usage.get("completion_tokens_details")
    value = details.get("reasoning_tokens") if isinstance(details, dict) else None
    return value if isinstance(value, int) else None
