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

from starlette.types import ASGIApp, Message, Receive

from distillguard.body_guard import BodyGuard, BodyRefusedError
from distillguard.errors import ConfigError

BODY_SECONDS = 60.0  # the gateway's 4 MB at about 70 KB/s; forms and TAXII are far smaller
TOO_SLOW = "request body too slow: it must arrive whole within the server's deadline"
# Read by the OpenAI and Anthropic SDKs alike (error.message, error.type), and plain JSON
# for a browser; TAXII gives its own error shape.
ANSWER = json.dumps(
    {"type": "error", "error": {"type": "request_timeout", "message": TOO_SLOW}}
).encode()


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
