"""The gateway's own work per request, without HTTP: one decision, timed call by call.

`Enforcer.decide` is what the gateway adds to every request before it calls upstream:
the verdict read (file store in process, or Redis over loopback), the prompt classifiers
when the policy names them, and the account's rate bucket. Timed in one process, one
call at a time, it is far less sensitive to a loaded machine than the HTTP benchmark.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from typing import Any

import msgspec
import numpy as np

from distillguard.gateway.enforcer import Enforcer
from distillguard.gateway.records import request_row
from distillguard.verdicts.policy import Request, Timeouts, load_policy
from distillguard.verdicts.store import open_store


def _row(i: int) -> dict[str, Any]:
    text = f"Question {i % 97}: what is {i % 13} times {i % 7}? Answer briefly."
    body = {"model": "m", "messages": [{"role": "user", "content": text}]}
    return request_row(str(i), datetime.now(UTC), f"bench-{i % 500}", "openai", body, {})


async def _decide_many(enforcer: Enforcer, n: int) -> np.ndarray:
    rows = [_row(i) for i in range(n)]
    latencies = np.zeros(n)
    for i, row in enumerate(rows):
        started = time.perf_counter()
        await enforcer.decide(row["account_id"], row)
        latencies[i] = time.perf_counter() - started
    return latencies


def bench_decide(state: str, classifiers: bool, n: int = 3000) -> dict[str, Any]:
    policy = load_policy()
    request = policy.request if classifiers else Request(rate=policy.request.rate)
    slow = Timeouts(store=1000, classifier=1000)  # time the work, never the fail mode
    policy = msgspec.structs.replace(policy, request=request, timeouts_ms=slow)
    enforcer = Enforcer(policy, open_store(state))

    async def run() -> tuple[np.ndarray, float]:
        await enforcer.warm()
        await _decide_many(enforcer, 200)  # warm caches and threads
        cpu = time.process_time()  # every thread's: the classifiers run off the event loop
        measured = await _decide_many(enforcer, n)
        cpu = time.process_time() - cpu
        await enforcer.close()
        return measured, cpu

    latencies, cpu = asyncio.run(run())
    return {
        "store": "redis" if state.startswith("redis://") else "file",
        "policy": "default" if classifiers else "verdicts",
        "calls": n,
        "p50_ms": float(np.percentile(latencies, 50) * 1000),
        "p99_ms": float(np.percentile(latencies, 99) * 1000),
        "cpu_ms_per_call": cpu * 1000 / n,
        "failures": enforcer.failures,
        "load_average": os.getloadavg()[0],
    }
