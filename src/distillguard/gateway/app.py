"""The gateway as an ASGI app (Starlette), and serving it with uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ExceptionHandler

from distillguard.body_deadline import BodyDeadline, body_seconds
from distillguard.gateway.apis import PATHS, ApiName, Refusal
from distillguard.gateway.enforcer import RETRY_S
from distillguard.gateway.guardrail_api import PATH as GUARDRAIL_PATH
from distillguard.gateway.guardrail_api import GenericGuardrailEndpoint
from distillguard.gateway.service import Gateway


async def _rotate_logs(gateway: Gateway) -> None:
    while gateway.log is not None:
        await asyncio.sleep(1.0)
        gateway.log.rotate_if_due()


def _not_served(served: list[str]) -> ExceptionHandler:
    """A path or method the gateway does not serve, as an API error the SDKs can read (a
    client asking /v1/models got a plain-text 'Not Found' its SDK could not parse)."""

    async def handle(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        asked = f"{request.method} {request.url.path}"
        why = f"The gateway serves {', '.join(served)}; {asked} is not one of them."
        kind = "not_found_error" if status == 404 else "invalid_request_error"
        path, headers = request.url.path, request.headers
        api: ApiName = (
            "anthropic"
            if path.startswith("/v1/messages") or "anthropic-version" in headers
            else "openai"
        )
        answer = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
        answer["x-distillguard-request-id"] = uuid.uuid4().hex  # on every response
        return JSONResponse(Refusal(status, kind, why).body(api), status, headers=answer)

    return handle


async def _health(gateway: Gateway) -> Response:
    problem = await gateway.enforcer.store_problem()
    if problem is None:
        return JSONResponse({"ok": True})
    policy = gateway.enforcer.policy
    refusing = policy.fail == "closed" and policy.mode == "enforce"
    # not the fail mode or the mode: unauthenticated, they would tell a harvester that
    # nothing is checked now (fail open) or ever (monitor)
    body = {"ok": not refusing, "problem": problem}
    headers = {"retry-after": str(RETRY_S)} if refusing else None
    return JSONResponse(body, 503 if refusing else 200, headers=headers)


def build_app(gateway: Gateway) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        rotation = asyncio.create_task(_rotate_logs(gateway))
        try:
            yield
        finally:
            rotation.cancel()
            await gateway.stop()

    async def health(request: Request) -> Response:
        """200 while the gateway serves; 503 while it refuses every request (a verdict
        store it cannot read, failing closed), so a load balancer sends traffic elsewhere.
        It says nothing about accounts: no auth needed."""
        return await _health(gateway)

    routes = [Route("/healthz", health, methods=["GET"])]
    if gateway.settings.upstream:
        routes += [Route(path, gateway.handle, methods=["POST"]) for path in PATHS]
    if gateway.settings.guardrail_key:
        endpoint = GenericGuardrailEndpoint(gateway.enforcer, gateway.settings.guardrail_key)
        routes.append(Route(GUARDRAIL_PATH, endpoint.handle, methods=["POST"]))
    served = [f"{sorted(r.methods or ())[0]} {r.path}" for r in routes if r.path != "/healthz"]
    not_served = _not_served([*served, "GET /healthz"])
    handlers: dict[Any, ExceptionHandler] = {404: not_served, 405: not_served}
    # a body trickled in holds no connection; large bodies are given longer
    deadline = body_seconds(gateway.settings.max_body_bytes)
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers=handlers,
        middleware=[Middleware(BodyDeadline, seconds=deadline)],
    )
    # "/v1/chat/completions/" was a bare 307 to the path without its slash, an answer no
    # SDK reads (and a POST body a client may not send again): a 404 that names the routes
    app.router.redirect_slashes = False
    return app
