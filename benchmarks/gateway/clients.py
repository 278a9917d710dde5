"""CPU per call of the HTTP clients the gateway could call upstream with, on loopback.

    python -m benchmarks.gateway.clients [--calls 3000] [--in-flight 32]

Each client posts the same Chat Completions body to the fake upstream (its own process)
with a fixed number of requests in flight, on uvloop; the figure is this process's CPU
time per call, so the machine's other load changes it little. This is why the gateway's
upstream client is aiohttp (src/distillguard/gateway/upstream.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx
import orjson
import uvloop
from tests.redis_server import free_port

from benchmarks.gateway.run import _start

BODY = orjson.dumps({"model": "m", "max_tokens": 200,
                     "messages": [{"role": "user", "content": "What is 3 times 4?"}]})  # fmt: skip
HEADERS = {"content-type": "application/json"}
Post = Callable[[], Awaitable[None]]


async def _measure(post: Post, calls: int, in_flight: int) -> tuple[float, float]:
    """(CPU ms per call, calls per second) after a warm-up."""
    gate = asyncio.Semaphore(in_flight)

    async def one() -> None:
        async with gate:
            await post()

    await asyncio.gather(*(one() for _ in range(200)))
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(calls)))
    return (time.process_time() - cpu) * 1000 / calls, calls / (time.perf_counter() - wall)


async def with_httpx(url: str, calls: int, in_flight: int) -> tuple[float, float]:
    limits = httpx.Limits(max_connections=in_flight)
    async with httpx.AsyncClient(limits=limits) as client:

        async def post() -> None:
            (await client.post(url, content=BODY, headers=HEADERS)).raise_for_status()

        return await _measure(post, calls, in_flight)


async def with_aiohttp(url: str, calls: int, in_flight: int) -> tuple[float, float]:
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post() -> None:
            async with session.post(url, data=BODY, headers=HEADERS) as r:
                r.raise_for_status()
                await r.read()

        return await _measure(post, calls, in_flight)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--in-flight", type=int, default=32)
    args = parser.parse_args()
    port = free_port()
    upstream, base = _start(["benchmarks.gateway.upstream", "--port", str(port)], port)
    url = base + "/v1/chat/completions"
    try:
        print("| client | CPU ms/call | calls/s | load avg |\n|---|---:|---:|---:|")
        for name, run in (("httpx", with_httpx), ("aiohttp", with_aiohttp)):
            cpu, rate = uvloop.run(run(url, args.calls, args.in_flight))
            print(f"| {name} | {cpu:.3f} | {rate:.0f} | {os.getloadavg()[0]:.1f} |", flush=True)
    finally:
        upstream.terminate()
        upstream.wait(timeout=30)


if __name__ == "__main__":
    main()
