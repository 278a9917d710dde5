"""A cap on request bodies for the servers that read small ones (the console's forms,
TAXII envelopes): a body over the cap is refused with 413, and read no further.

Checking Content-Length alone is not enough: a chunked body has none, and Starlette's
`request.body()` and `request.form()` read the whole of it first (one console login of
990 fields of 1,000 KB held a gigabyte before it was refused). Here each part of the body
is counted as the app reads it: past the cap the read stops and the client gets 413. A
body the app never reads (a request refused for its credentials) is never read here
either, and a client that leaves midway leaves as before: the app sees it go.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope

from distillguard.body_guard import BodyGuard, BodyRefusedError

TOO_LARGE = b'{"title": "request body too large", "http_status": "413"}'  # TAXII's shape


class BodyTooLargeError(BodyRefusedError):
    """Raised into the app's read of the body once it passes the cap."""


class BodyLimit(BodyGuard):
    """ASGI middleware: at most `limit` bytes of body reach the app, or a 413."""

    refusal = BodyTooLargeError
    status = 413

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        media_type: str = "application/json",
        answer: bytes = TOO_LARGE,  # in the server's own error shape
    ) -> None:
        super().__init__(app, answer, media_type)
        self.limit = limit

    def refused_from_head(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"content-length":
                return not value.isdigit() or int(value) > self.limit
        return False

    def guarded(self, receive: Receive) -> Receive:
        size = 0

        async def counted() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > self.limit:
                    raise BodyTooLargeError
            return message

        return counted
