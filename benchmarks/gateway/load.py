"""An open-loop load generator: requests sent on a fixed schedule, latency per request."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
import numpy as np


@dataclass(frozen=True)
class LoadResult:
    rate: int
    sent: int
    ok: int
    errors: int
    achieved_rps: float
    p50_ms: float
    p99_ms: float
    late_p99_ms: float  # how far behind schedule the client sent: large means it could not keep up
    statuses: dict[int, int]


def _body(i: int) -> dict[str, object]:
    prompt = f"Question {i % 97}: what is {i % 13} times {i % 7}? Answer briefly."
    return {"model": "m", "max_tokens": 200, "messages": [{"role": "user", "content": prompt}]}


async def _run(url: str, rate: int, seconds: float, accounts: int) -> LoadResult:
    n = int(rate * seconds)
    latencies = np.zeros(n)
    late = np.zeros(n)
    statuses = np.zeros(n, dtype=np.int64)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        start = time.perf_counter() + 0.1

        async def one(i: int) -> None:
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            sent = time.perf_counter()
            late[i] = sent - due
            headers = {"x-distillguard-account": f"bench-{i % accounts}"}
            try:
                r = await client.post(url + "/v1/chat/completions", json=_body(i), headers=headers)
                statuses[i] = r.status_code
            except httpx.HTTPError:
                statuses[i] = -1
            latencies[i] = time.perf_counter() - sent

        await asyncio.gather(*(one(i) for i in range(n)))
        elapsed = time.perf_counter() - start
    ok = int(np.sum((statuses >= 200) & (statuses < 300)))
    codes, counts = np.unique(statuses, return_counts=True)
    return LoadResult(
        rate=rate,
        sent=n,
        ok=ok,
        errors=int(np.sum((statuses < 0) | (statuses >= 500))),
        achieved_rps=n / elapsed,
        p50_ms=float(np.percentile(latencies, 50) * 1000),
        p99_ms=float(np.percentile(latencies, 99) * 1000),
        late_p99_ms=float(np.percentile(late, 99) * 1000),
        statuses={int(c): int(k) for c, k in zip(codes, counts, strict=True)},
    )


def run_load(url: str, rate: int, seconds: float, accounts: int = 500) -> LoadResult:
    return asyncio.run(_run(url, rate, seconds, accounts))
