"""Exchange-log v1 rows for what the gateway sees and serves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from distillguard.gateway import apis
from distillguard.gateway.apis import ApiName


def request_row(  # noqa: PLR0917
    request_id: str,
    ts: datetime,
    account: str,
    api: ApiName,
    body: dict[str, Any],
    meta: dict[str, Any],
) -> dict[str, Any]:
    """The request's half of an exchange-log row (the response's half is added later)."""
    system, messages = apis.log_messages(api, body)
    model = body.get("model")
    temperature = body.get("temperature")
    return {
        "request_id": request_id,
        "ts": ts,
        "account_id": account,
        **meta,
        "model": model if isinstance(model, str) and model else "unknown",
        "max_tokens": apis.max_tokens(api, body),
        "temperature": float(temperature) if isinstance(temperature, int | float) else None,
        "thinking_budget": apis.thinking_budget(body),
        "tools": apis.tool_names(body) or None,
        "system": system,
        "messages": messages,
    }


def bare_row(request_id: str, ts: datetime, account: str, meta: dict[str, Any]) -> dict[str, Any]:
    """A row for a request that could not be read (malformed, too large)."""
    return {"request_id": request_id, "ts": ts, "account_id": account, **meta,
            "model": "unknown", "messages": []}  # fmt: skip


def finished(
    row: dict[str, Any], status: int | None, latency_ms: int, result: dict[str, Any]
) -> dict[str, Any]:
    """The row completed with the response's status, timing and (when known) text and usage."""
    keep = ("output_text", "stop_reason", "input_tokens", "output_tokens", "reasoning_tokens")
    return {**row, "status": status, "latency_ms": latency_ms,
            **{k: result.get(k) for k in keep}}  # fmt: skip


def for_log(row: dict[str, Any]) -> dict[str, Any]:
    """Messages as the spec writes them: text blocks and typed blocks without null fields."""
    messages = [
        {"role": m["role"],
         "content": [{k: v for k, v in b.items() if v is not None} for b in m["content"]]}
        for m in row["messages"]
    ]  # fmt: skip
    # The log needs one message: an unreadable request is logged as one empty user turn.
    messages = messages or [{"role": "user", "content": ""}]
    return {**{k: v for k, v in row.items() if v is not None}, "messages": messages}
