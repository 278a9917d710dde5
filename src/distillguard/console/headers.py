"""Response headers that keep the console's pages where they belong.

A case page shows customers' prompts and a form that blocks an account. Without these, a
page on the same host (another port is the same site, so the session cookie goes along)
could frame the console and steer a click onto the decision form, a browser or proxy could
keep a page of prompts in its cache after logout, and a link followed out of the console
would tell the next site which account was open. The pages use no script, so the policy
allows none.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "content-security-policy": POLICY,
    "x-frame-options": "DENY",  # for browsers that predate frame-ancestors
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


class SecurityHeaders:
    """ASGI middleware: every response carries HEADERS (a route's own value stands)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, sending)
