"""The gateway as an ASGI app (Starlette), and serving it with uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from distillguard.gateway.apis import PATHS
from distillguard.gateway.guardrail_api import PATH as GUARDRAIL_PATH
from distillguard.gateway.guardrail_api import GenericGuardrailEndpoint
from distillguard.gateway.service import Gateway


async def _rotate_logs(gateway: Gateway) -> None:
    while gateway.log is not None:
        await asyncio.sleep(1.0)
        gateway.log.rotate_if_due()


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
        return JSONResponse({"ok": True})  # says nothing about accounts: no auth needed

    routes = [Route("/healthz", health, methods=["GET"])]
    if gateway.settings.upstream:
        routes += [Route(path, gateway.handle, methods=["POST"]) for path in PATHS]
    if gateway.settings.guardrail_key:
        endpoint = GenericGuardrailEndpoint(gateway.enforcer, gateway.settings.guardrail_key)
        routes.append(Route(GUARDRAIL_PATH, endpoint.handle, methods=["POST"]))
    return Starlette(routes=routes, lifespan=lifespan)
