"""A fake OpenAI-compatible upstream on loopback: the only fake in the capture, because the
real model API cannot be reached from here. Standard library only.

POST /v1/chat/completions answers like OpenAI's Chat Completions: text (finish_reason
"stop"), a tool call when tools are declared and the last turn is the user's
(finish_reason "tool_calls"), Server-Sent Events when `stream` is set (with a usage chunk
when `stream_options.include_usage` is), and HTTP 500 for any model whose name contains
"fail".
"""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ids = itertools.count(1)
CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z: fixed so answers differ only by content


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def _choice(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    messages = body.get("messages") or []
    if body.get("tools") and messages and messages[-1].get("role") == "user":
        name = body["tools"][0]["function"]["name"]
        call = {
            "id": f"call_{next(_ids)}",
            "type": "function",
            "function": {"name": name, "arguments": '{"city": "Paris"}'},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
    return {"role": "assistant", "content": f"Answer to: {_last_user_text(body)}"}, "stop"


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(json.dumps(m).split()) for m in body.get("messages") or [])
    completion = len(text.split()) or 1
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def completion(body: dict[str, Any]) -> dict[str, Any]:
    message, finish = _choice(body)
    return {
        "id": f"chatcmpl-fake{next(_ids)}",
        "object": "chat.completion",
        "created": CREATED,
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": _usage(body, message.get("content") or "call"),
    }


def stream_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    message, finish = _choice(body)
    base = {
        "id": f"chatcmpl-fake{next(_ids)}",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": body.get("model"),
    }
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    if message.get("tool_calls"):
        deltas.append({"tool_calls": [{"index": 0, **message["tool_calls"][0]}]})
    else:
        deltas += [{"content": word + " "} for word in message["content"].split()]
    chunks = [
        {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        for delta in deltas
    ]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = _usage(body, message.get("content") or "call")
        chunks.append({**base, "choices": [], "usage": usage})
    return chunks


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        if "fail" in str(body.get("model")):
            error = {"error": {"message": "upstream failure", "type": "server_error"}}
            self._send(500, json.dumps(error).encode(), "application/json")
        elif body.get("stream"):
            events = "".join(f"data: {json.dumps(c)}\n\n" for c in stream_chunks(body))
            self._send(200, (events + "data: [DONE]\n\n").encode(), "text/event-stream")
        else:
            self._send(200, json.dumps(completion(body)).encode(), "application/json")


def start(port: int = 0) -> ThreadingHTTPServer:
    """Serve on 127.0.0.1 in a daemon thread; the bound port is server.server_address[1]."""
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
