"""A cap on request bodies for the servers that read small ones (the console's forms,
TAXII envelopes): a body over the cap is refused with 413 before the app reads any of it.

Checking Content-Length alone is not enough: a chunked body has none, and Starlette's
`request.body()` and `request.form()` read the whole of it first (one console login of
990 fields of 1,000 KB held a gigabyte before it was refused). Here the body is counted
as it arrives and never held past the cap.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: at most `limit` bytes of body reach the app, whole, or a 413."""

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
        body = await self._read(receive)
        if body is None:
            await self._refuse(send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _declared(self, scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-length":
                return int(value) if value.isdigit() else self.limit + 1
        return 0

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it passes the limit (the rest is not read)."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left: an empty body
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _refuse(self, send: Send) -> None:
        body = b'{"title": "request body too large", "http_status": "413"}'
        headers = [(b"content-type", self.media_type), (b"connection", b"close"),
                   (b"content-length", str(len(body)).encode())]  # fmt: skip
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read once, as one message; then the client's own messages (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
