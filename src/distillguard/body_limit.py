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

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLargeError(Exception):
    """Raised into the app's read of the body once it passes the cap."""


class BodyLimit:
    """ASGI middleware: at most `limit` bytes of body reach the app, or a 413."""

    def __init__(self, app: ASGIApp, limit: int, media_type: str = "application/json") -> None:
        self.app = app
        self.limit = limit
        self.media_type = media_type.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declared(scope) > self.limit:
            await self._refuse(send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, self._counted(receive), sending)
        except BodyTooLargeError:
            if not started:  # else the answer is under way: the connection just closes
                await self._refuse(send)

    def _declared(self, scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-length":
                return int(value) if value.isdigit() else self.limit + 1
        return 0

    def _counted(self, receive: Receive) -> Receive:
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

    async def _refuse(self, send: Send) -> None:
        body = b'{"title": "request body too large", "http_status": "413"}'
        headers = [(b"content-type", self.media_type), (b"connection", b"close"),
                   (b"content-length", str(len(body)).encode())]  # fmt: skip
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
