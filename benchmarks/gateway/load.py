"""An open-loop load generator: requests sent on a fixed schedule, latency per request.

It runs on aiohttp and uvloop with the request bodies encoded in advance, so that the
harness spends little of the machine's CPU (about 0.1 ms a request) and what is measured
is the server. Each run also records the CPU seconds the processes under test used
(read from /proc), so a figure taken on a busy machine still says what a request costs.
Requests are dispatched when due, the first second of every run opens the connections at
the measured rate and is not counted, and the client collects no garbage while it
measures: its own pauses and a cold connection pool are not the server's latency.
"""

from __future__ import annotations

import asyncio
import gc
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


async def _run(
    url: str, rate: int, seconds: float, accounts: int, warmup_s: float
) -> tuple[np.ndarray, ...]:
    """Requests dispatched on schedule (a task each, created when due, not all up front);
    the first `warmup_s` seconds open the connections at the measured rate and are dropped."""
    skip, n = int(rate * warmup_s), int(rate * (warmup_s + seconds))
    bodies = [_body(i) for i in range(n)]
    latencies, late = np.zeros(n), np.zeros(n)
    statuses = np.zeros(n, dtype=np.int64)
    connector = aiohttp.TCPConnector(limit=256)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(i: int, due: float) -> None:
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

        tasks, start = [], time.perf_counter()
        for i in range(n):
            due = start + i / rate
            if due > time.perf_counter():
                await asyncio.sleep(due - time.perf_counter())
            tasks.append(asyncio.create_task(one(i, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - (start + warmup_s)
    return latencies[skip:], late[skip:], statuses[skip:], np.array([elapsed])


def run_load(
    url: str,
    rate: int,
    seconds: float,
    *,
    pids: dict[str, int] | None = None,
    accounts: int = 500,
    warmup_s: float = 1.0,
) -> LoadResult:
    """Send `rate` requests a second for `seconds` after `warmup_s` more; `pids` name the
    processes to charge (their CPU over the whole run, warm-up included)."""
    pids = {**(pids or {}), "client": os.getpid()}
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    # The client's own full collections (tens of ms with a run's tasks alive) would be
    # counted as the server's latency: none while it measures.
    gc.collect()
    gc.disable()
    try:
        latencies, late, statuses, elapsed = uvloop.run(
            _run(url, rate, seconds, accounts, warmup_s)
        )
    finally:
        gc.enable()
    n_all = int(rate * (warmup_s + seconds))
    n = len(latencies)
    cpu = {name: (cpu_seconds(pid) - before[name]) * 1000 / n_all for name, pid in pids.items()}
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
