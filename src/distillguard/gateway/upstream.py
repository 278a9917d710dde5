"""Calling the upstream API: plain JSON, or a server-sent event stream passed through filters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from distillguard.gateway.actions.base import StreamFilter
from distillguard.gateway.apis import reasoning_tokens

FORWARDED = (
    "authorization",
    "x-api-key",
    "anthropic-version",
    "anthropic-beta",
    "openai-organization",
)


def forward_headers(headers: Any) -> dict[str, str]:
    out = {k: headers[k] for k in FORWARDED if k in headers}
    out["content-type"] = "application/json"
    return out


@dataclass
class StreamRecord:
    """What the exchange log needs from a stream, gathered as it passes."""

    text: list[str] = field(default_factory=list)
    stop_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None

    def observe(self, event: dict[str, Any]) -> None:
        delta: dict[str, Any] = event["delta"] if isinstance(event.get("delta"), dict) else {}
        if delta.get("type") == "text_delta":
            self.text.append(str(delta.get("text", "")))
        self.stop_reason = delta.get("stop_reason") or self.stop_reason
        used = event.get("usage") or (event.get("message") or {}).get("usage") or {}
        self.input_tokens = used.get("input_tokens", used.get("prompt_tokens", self.input_tokens))
        self.output_tokens = used.get(
            "output_tokens", used.get("completion_tokens", self.output_tokens)
        )
        self.reasoning_tokens = reasoning_tokens(used) or self.reasoning_tokens
        for choice in event.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if isinstance(content, str):
                self.text.append(content)
            self.stop_reason = choice.get("finish_reason") or self.stop_reason


def _filtered(lines: list[str], flt: StreamFilter, record: StreamRecord) -> str | None:
    """One SSE event (its lines) after the filter; None when the filter drops it."""
    out = []
    for line in lines:
        if line.startswith("data:") and line[5:].strip() not in ("", "[DONE]"):
            try:
                event = orjson.loads(line[5:].strip())
            except orjson.JSONDecodeError:
                out.append(line)
                continue
            kept = flt.on_event(event)
            if kept is None:
                return None
            record.observe(kept)
            out.append("data: " + orjson.dumps(kept).decode())
            continue
        out.append(line)
    return "\n".join(out) + "\n\n"


async def relay_events(
    response: httpx.Response,
    flt: StreamFilter,
    record: StreamRecord,
    done: Callable[[int | None], None],
) -> AsyncIterator[bytes]:
    """The upstream's events, filtered, as they come; `done` runs once at the end."""
    lines: list[str] = []
    status: int | None = response.status_code
    try:
        async for line in response.aiter_lines():
            if line:
                lines.append(line)
                continue
            event = _filtered(lines, flt, record) if lines else None
            lines = []
            if event is not None:
                yield event.encode()
        if lines and (event := _filtered(lines, flt, record)) is not None:
            yield event.encode()
    except httpx.HTTPError:
        status = 502  # the upstream broke off mid-stream
        raise
    finally:
        await response.aclose()
        done(status)
