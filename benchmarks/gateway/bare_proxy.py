"""A bare pass-through proxy on the gateway's own stack, as the benchmark's floor.

Uvicorn (httptools, uvloop), Starlette and the gateway's aiohttp upstream client, and
nothing else: no identity, verdict, classifier, rate state or exchange log. What it adds
over calling the upstream directly is what any proxy process in Python adds on this
machine (one more HTTP hop, two more process wake-ups); the gateway's own work is what it
adds over this.
"""

from __future__ import annotations

import argparse
import gc

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distillguard.gateway.upstream import UpstreamClient, forward_headers


def build(upstream: str) -> Starlette:
    client = UpstreamClient(upstream, 30.0)

    async def relay(request: Request) -> Response:
        body = await request.body()
        answer = await client.post(request.url.path, body, forward_headers(request.headers))
        return Response(answer.content, answer.status, media_type=answer.content_type)

    return Starlette(routes=[Route("/v1/chat/completions", relay, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    gc.collect()
    gc.freeze()  # as the gateway does once it has started
    uvicorn.run(build(args.upstream), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False)  # fmt: skip


if __name__ == "__main__":
    main()
