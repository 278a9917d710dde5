"""A deadline for each request's body: a client that uploads too slowly gets a 408.

The head deadline (head_deadline.py) ends a slowloris on the request line and headers, and
lets the body take its time, as an upload on a slow link must. Nothing then bounded the
body: a client that sent a whole head and a byte of body every few seconds held its
connection, and whatever the app had set aside for the request, for as long as it liked.
Here the app's reads of a body must reach its end within `seconds` of the first read:
past that the read fails, the client gets 408 (while no answer has started) with
`Connection: close`, and the app's handler ends as it does for a client that left.

Only the body is timed. A read after the body's end (Starlette listens for the client
leaving while it streams an answer) waits as long as the answer does.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from distillguard.body_guard import BodyGuard, BodyRefusedError
from distillguard.errors import ConfigError

BODY_SECONDS = 60.0  # the least a body is given; forms and TAXII envelopes are small
BODY_RATE = 64 * 1024  # bytes a second: a server taking large bodies gives them longer
TOO_SLOW = "request body too slow: it must arrive whole within the server's deadline"
# Read by the OpenAI and Anthropic SDKs alike (error.message, error.type), and plain JSON
# for a browser; TAXII gives its own error shape.
ANSWER = json.dumps(
    {"type": "error", "error": {"type": "request_timeout", "message": TOO_SLOW}}
).encode()


def body_seconds(max_body_bytes: int) -> float:
    """The deadline for a server that takes bodies up to `max_body_bytes`: BODY_SECONDS, or
    longer where the largest body would need more at BODY_RATE (a gateway raised to 32 MB
    for images would otherwise ask its clients for 4.5 Mbit/s of upload)."""
    return max(BODY_SECONDS, max_body_bytes / BODY_RATE)


class BodyTooSlowError(BodyRefusedError):
    """Raised into the app's read of the body once its deadline passes."""


class BodyDeadline(BodyGuard):
    """ASGI middleware: each request's body arrives whole within `seconds`, or a 408."""

    refusal = BodyTooSlowError
    status = 408

    def __init__(
        self,
        app: ASGIApp,
        seconds: float | None = None,
        answer: bytes = ANSWER,
        media_type: str = "application/json",
    ) -> None:
        seconds = BODY_SECONDS if seconds is None else seconds  # read now: tests shorten it
        if not seconds > 0:
            raise ConfigError(f"the body deadline must be positive, not {seconds!r}")
        super().__init__(app, answer, media_type)
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An answer sent before the body is whole (a 401 before reading, a 404) closes
        the connection: uvicorn would otherwise drain the rest of the body, untimed, for
        as long as the client trickles it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        whole = not _has_body(scope)

        async def tracked() -> Message:
            nonlocal whole
            message = await receive()
            whole = whole or message["type"] != "http.request" or not message.get("more_body")
            return message

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start" and not whole:
                kept = [(k, v) for k, v in message.get("headers", []) if k != b"connection"]
                message = {**message, "headers": [*kept, (b"connection", b"close")]}
            await send(message)

        await super().__call__(scope, tracked, closing)

    def guarded(self, receive: Receive) -> Receive:
        deadline: float | None = None
        whole = False

        async def timed() -> Message:
            nonlocal deadline, whole
            if whole:
                return await receive()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.seconds if deadline is None else deadline
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.0))
            except TimeoutError:
                raise BodyTooSlowError from None
            whole = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        return timed


def _has_body(scope: Scope) -> bool:
    """Whether the request's head announces a body (a length above 0, or chunks)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
        if name == b"transfer-encoding":
            return True
    return False
