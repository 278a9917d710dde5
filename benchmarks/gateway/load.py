"""An open-loop load generator: requests sent on a fixed schedule, latency per request.

It runs on aiohttp and uvloop with the request bodies encoded in advance, so that the
harness spends little of the machine's CPU (about 0.1 ms a request) and what is measured
is the server. Each run also records the CPU seconds the processes under test used
(read from /proc), so a figure taken on a busy machine still says what a request costs.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

import aiohttp
import numpy as np
import orjson
import uvloop


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
    cpu_ms_per_request: dict[str, float]  # per process under test, and the client's own
    load_average: float  # the machine's 1-minute load average when the run ended


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _body(i: int) -> bytes:
    prompt = f"Question {i % 97}: what is {i % 13} times {i % 7}? Answer briefly."
    body = {"model": "m", "max_tokens": 200, "messages": [{"role": "user", "content": prompt}]}
    return orjson.dumps(body)


async def _run(url: str, rate: int, seconds: float, accounts: int) -> tuple[np.ndarray, ...]:
    n = int(rate * seconds)
    bodies = [_body(i) for i in range(n)]
    latencies, late = np.zeros(n), np.zeros(n)
    statuses = np.zeros(n, dtype=np.int64)
    connector = aiohttp.TCPConnector(limit=256)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter() + 0.1

        async def one(i: int) -> None:
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            sent = time.perf_counter()
            late[i] = sent - due
            headers = {"x-distillguard-account": f"bench-{i % accounts}",
                       "content-type": "application/json"}  # fmt: skip
            try:
                async with session.post(url + "/v1/chat/completions", data=bodies[i],
                                        headers=headers) as r:  # fmt: skip
                    await r.read()
                    statuses[i] = r.status
            except (aiohttp.ClientError, TimeoutError):
                statuses[i] = -1
            latencies[i] = time.perf_counter() - sent

        await asyncio.gather(*(one(i) for i in range(n)))
        elapsed = time.perf_counter() - start
    return latencies, late, statuses, np.array([elapsed])


def run_load(
    url: str, rate: int, seconds: float, pids: dict[str, int] | None = None, accounts: int = 500
) -> LoadResult:
    """Send `rate` requests a second for `seconds`; `pids` name the processes to charge."""
    pids = {**(pids or {}), "client": os.getpid()}
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    latencies, late, statuses, elapsed = uvloop.run(_run(url, rate, seconds, accounts))
    n = len(latencies)
    cpu = {name: (cpu_seconds(pid) - before[name]) * 1000 / n for name, pid in pids.items()}
    codes, counts = np.unique(statuses, return_counts=True)
    return LoadResult(
        rate=rate,
        sent=n,
        ok=int(np.sum((statuses >= 200) & (statuses < 300))),
        errors=int(np.sum((statuses < 0) | (statuses >= 500))),
        achieved_rps=n / float(elapsed[0]),
        p50_ms=float(np.percentile(latencies, 50) * 1000),
        p99_ms=float(np.percentile(latencies, 99) * 1000),
        late_p99_ms=float(np.percentile(late, 99) * 1000),
        statuses={int(c): int(k) for c, k in zip(codes, counts, strict=True)},
        cpu_ms_per_request=cpu,
        load_average=os.getloadavg()[0],
    )
