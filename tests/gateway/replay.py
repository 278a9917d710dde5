"""Simulated exchange-log rows as the API requests that produced them, for replays."""

from __future__ import annotations

from typing import Any


def _content(blocks: Any) -> Any:
    if isinstance(blocks, str):
        return blocks
    parts: list[dict[str, Any]] = []
    for block in blocks or []:
        if block.get("type") == "image":
            parts.append({"type": "image_url", "image_url": {"url": "data:image/png;base64,"}})
        elif block.get("text"):
            parts.append({"type": "text", "text": block["text"]})
    return parts or ""


def _message(message: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message["role"], "content": _content(message["content"])}
    blocks = message["content"] if isinstance(message["content"], list) else []
    calls = [b for b in blocks if b.get("type") == "tool_use"]
    if message["role"] == "assistant" and calls:
        out["tool_calls"] = [
            {
                "id": f"c{i}",
                "type": "function",
                "function": {"name": b.get("name"), "arguments": "{}"},
            }
            for i, b in enumerate(calls)
        ]
    return out


def openai_request(row: dict[str, Any]) -> dict[str, Any]:
    """The Chat Completions body of one exchange-log row."""
    messages = [{"role": "system", "content": row["system"]}] if row.get("system") else []
    messages += [_message(m) for m in row["messages"]]
    body: dict[str, Any] = {"model": row["model"], "messages": messages}
    for key in ("max_tokens", "temperature"):
        if row.get(key) is not None:
            body[key] = row[key]
    if row.get("thinking_budget"):
        # The Anthropic-style field, as Anthropic's OpenAI-compatible endpoint accepts it.
        body["thinking"] = {"type": "enabled", "budget_tokens": row["thinking_budget"]}
    # The fake upstream answers a replayed request as the model answered it then.
    body["metadata"] = {"replay_of": row["request_id"]}
    if row.get("tools"):
        body["tools"] = [{"type": "function", "function": {"name": n}} for n in row["tools"]]
    return body


def replay_headers(row: dict[str, Any]) -> dict[str, str]:
    headers = {"x-distillguard-account": row["account_id"], "x-distillguard-replay-ts": row["ts"]}
    if row.get("ip"):
        headers["x-forwarded-for"] = row["ip"]
    if row.get("user_agent"):
        headers["user-agent"] = row["user_agent"]
    return headers
