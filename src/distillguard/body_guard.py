"""What the servers' body guards share: a wrapped read of the request body that can refuse.

A guard (body_limit's size cap, body_deadline's time limit) wraps the `receive` the app
reads its body with; a read the guard refuses raises BodyRefusedError into the app, which
lets it through, and the guard answers in its place with its own status while no answer
has started (else the connection just closes). A body the app never reads is never read
here either.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyRefusedError(Exception):
    """Raised into the app's read of a body its guard refuses."""


class BodyGuard:
    """ASGI middleware base: subclasses say how reads are guarded (`guarded`), and may
    refuse a request from its head alone (`refused_from_head`)."""

    status = 400
    # what this guard's reads raise: an inner guard must not answer for an outer one's
    refusal: type[BodyRefusedError] = BodyRefusedError

    def __init__(self, app: ASGIApp, answer: bytes, media_type: str) -> None:
        self.app = app
        self.answer = answer
        self.media_type = media_type.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.refused_from_head(scope):
            await self.refuse(send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, self.guarded(receive), sending)
        except self.refusal:
            if not started:  # else the answer is under way: the connection just closes
                await self.refuse(send)

    def refused_from_head(self, scope: Scope) -> bool:
        return False

    def guarded(self, receive: Receive) -> Receive:
        raise NotImplementedError

    async def refuse(self, send: Send) -> None:
        headers = [(b"content-type", self.media_type), (b"connection", b"close"),
                   (b"content-length", str(len(self.answer)).encode())]  # fmt: skip
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.answer})
