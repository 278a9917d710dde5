"""Calling the upstream API: plain JSON, or a server-sent event stream passed through filters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from distillguard.gateway.actions.base import StreamFilter

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
        for choice in event.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if isinstance(content, str):
                self.text.append(content)
            self.stop_reason = choice.get("finish_reason") or self.stop_reason


def _json_data(lines: list[str]) -> tuple[int, dict[str, Any]] | None:
    """The line number and JSON object of an event's data, when it is one JSON object."""
    data = [i for i, line in enumerate(lines) if line.startswith("data:")]
    if len(data) != 1 or lines[data[0]][5:].strip() in ("", "[DONE]"):
        return None
    try:
        event = orjson.loads(lines[data[0]][5:].strip())
    except orjson.JSONDecodeError:
        return None
    return (data[0], event) if isinstance(event, dict) else None


def _filtered(lines: list[str], flt: StreamFilter | None, record: StreamRecord) -> str | None:
    """One SSE event (its lines) after the filter: none, itself, or several events in its
    place, each with its own `event:` name (the JSON's type) when the original had one.
    Without a filter the event goes out as the upstream wrote it."""
    found = _json_data(lines)
    if found is None or flt is None:
        if found is not None:
            record.observe(found[1])
        return "\n".join(lines) + "\n\n"  # as the upstream wrote it
    at, event = found
    out = []
    for kept in flt.on_event(event):
        record.observe(kept)
        own = [_renamed(line, event, kept) for line in lines]
        own[at] = "data: " + orjson.dumps(kept).decode()
        out.append("\n".join(own) + "\n\n")
    return "".join(out) or None


def _renamed(line: str, original: dict[str, Any], event: dict[str, Any]) -> str:
    """The `event:` line for `event`, sent in the place of `original`."""
    kind = event.get("type")
    if not line.startswith("event:") or kind == original.get("type") or not isinstance(kind, str):
        return line
    return f"event: {kind}"


async def relay_events(
    response: httpx.Response,
    flt: StreamFilter | None,
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
