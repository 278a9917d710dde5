"""Calling the upstream API: plain JSON, or a server-sent event stream passed through filters.

The client is aiohttp's: its C HTTP parser costs about 0.1 ms of CPU a call where httpx cost
about 1.5 ms (benchmarks/gateway, same machine), and the upstream call is the larger part
of what a proxied request costs the gateway.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from distillguard.gateway.actions.base import StreamFilter
from distillguard.gateway.apis import reasoning_tokens
from distillguard.ingest.adapters.openai_chat import stop_reason

log = logging.getLogger("distillguard.gateway")
# nginx's code for a request whose client closed the connection before the answer ended
CLIENT_CLOSED = 499

FORWARDED = (
    "authorization",
    "x-api-key",
    "anthropic-version",
    "anthropic-beta",
    "openai-organization",
    "openai-project",
    "openai-beta",
)


# What a proxy does not pass back: hop-by-hop headers, what the response it writes sets
# itself (its length, type and encoding: the body may be changed, and aiohttp decompresses
# it), and the upstream's cookies, which are not the client's business.
_NOT_RELAYED = frozenset((
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "content-length", "content-type", "content-encoding",
    "date", "server", "set-cookie",
))  # fmt: skip


def relayed_headers(headers: Any) -> dict[str, str]:
    """The upstream's response headers a client should see (retry-after on a 429, the
    request id a provider's support asks for, rate-limit counters)."""
    return {k.lower(): v for k, v in headers.items() if k.lower() not in _NOT_RELAYED}


CREDENTIALS = ("authorization", "x-api-key")


def forward_headers(
    headers: Any, upstream_key: str | None = None, api: str = "openai"
) -> dict[str, str]:
    """The client's headers the upstream needs. With `upstream_key` (a reseller's own
    credential) the client's key stays here and the upstream gets that one, where its API
    reads it: Anthropic's x-api-key, else Authorization: Bearer."""
    out = {k: headers[k] for k in FORWARDED if k in headers}
    if upstream_key is not None:
        for name in CREDENTIALS:
            out.pop(name, None)
        if api == "anthropic":
            out["x-api-key"] = upstream_key
        else:
            out["authorization"] = f"Bearer {upstream_key}"
    out["content-type"] = "application/json"
    return out


class UpstreamError(Exception):
    """The upstream could not be reached, broke off, or did not answer in time."""

    def __init__(self, timed_out: bool) -> None:
        super().__init__("upstream timed out" if timed_out else "upstream unreachable")
        self.timed_out = timed_out


@dataclass(frozen=True)
class Answer:
    """A whole (not streamed) upstream response."""

    status: int
    content: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)  # relayed_headers of the answer


class UpstreamClient:
    """A pooled connection to the model API; `timeout_s` bounds each wait for bytes."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.base_url, self.timeout_s = base_url.rstrip("/"), timeout_s
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:  # inside the running loop: aiohttp binds to it
            timeout = aiohttp.ClientTimeout(total=None, connect=5.0, sock_read=self.timeout_s)
            connector = aiohttp.TCPConnector(limit=512, limit_per_host=512)
            self._session = aiohttp.ClientSession(
                timeout=timeout, connector=connector, read_bufsize=1 << 20, auto_decompress=True
            )
        return self._session

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        try:
            async with self._open().post(self.base_url + path, data=body, headers=headers) as r:
                content = await r.read()
                kind = r.headers.get("content-type", "application/json")
                return Answer(r.status, content, kind, relayed_headers(r.headers))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamError(isinstance(exc, TimeoutError)) from exc

    async def open_stream(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> aiohttp.ClientResponse:
        """The response with its headers read; its body is the caller's to read and release."""
        try:
            return await self._open().post(self.base_url + path, data=body, headers=headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamError(isinstance(exc, TimeoutError)) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


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
            self.stop_reason = stop_reason(choice.get("finish_reason")) or self.stop_reason


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
    response: aiohttp.ClientResponse,
    flt: StreamFilter | None,
    record: StreamRecord,
    done: Callable[[int | None], None],
    broken: bytes,
) -> AsyncIterator[bytes]:
    """The upstream's events, filtered, as they come; `done` runs once at the end.

    When the upstream breaks off, the client gets `broken` (an error event its SDK raises
    on) and a stream that ends cleanly, and the log one line: the status is 200 already,
    so an event is the only way left to say the answer is incomplete. A client that goes
    away before the end is logged as CLIENT_CLOSED, not as an answer served whole."""
    lines: list[str] = []
    status: int | None = CLIENT_CLOSED  # until the stream ends or breaks off
    try:
        async for raw in response.content:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line:
                lines.append(line)
                continue
            event = _filtered(lines, flt, record) if lines else None
            lines = []
            if event is not None:
                yield event.encode()
        if lines and (event := _filtered(lines, flt, record)) is not None:
            yield event.encode()
        status = response.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        status = 502  # the upstream broke off mid-stream (or sent a line beyond 1 MiB)
        log.warning("the upstream broke off a stream (%s); the client was sent an error "
                    "event", str(exc) or type(exc).__name__)  # fmt: skip
        yield broken
    finally:
        response.release()
        done(status)
