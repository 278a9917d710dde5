"""Gateway benchmark: requests per second and the latency the gateway adds, on loopback.

    python -m benchmarks.gateway.run [--rates 200 1000] [--seconds 10] [--work bench-out/gateway]
                                     [--only-decide] [--pin]

First the decision alone (benchmarks/gateway/decide.py), then over HTTP: straight to the
upstream, through a bare pass-through proxy on the same stack (benchmarks/gateway/bare_proxy.py,
the floor any proxy process adds here), and through the gateway.

The fake upstream (tests/fake_upstream.py) and each gateway run as their own processes
(`distillguard gateway ...`, exchange log on, enforce mode); an open-loop client sends
requests at a fixed rate, first straight to the upstream, then through the gateway, and
the added latency is the difference of the two at each percentile. Stores: the file
store read in process (the embedded default) and Redis (Debian's redis-server). Policies:
`verdicts`, the default policy without the prompt classifiers, and `default`, with them.
2% of the 500 accounts hold a degrade verdict, so that path is exercised too. With --pin,
the proxy under test runs on a CPU of its own and everything else on the rest.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import yaml
from tests.redis_server import free_port, redis_server

from benchmarks.gateway.decide import bench_decide
from benchmarks.gateway.load import LoadResult, run_load
from distillguard.verdicts.model import Verdict, now
from distillguard.verdicts.policy import default_policy_text
from distillguard.verdicts.store import open_store


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited")
        try:
            httpx.post(url + "/v1/chat/completions", json={"model": "m", "messages": []},
                       headers={"x-distillguard-account": "warm"}, timeout=2)  # fmt: skip
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


# Set by --pin: the CPUs the proxy under test runs on, apart from the load generator's.
PROXY_CPUS: set[int] | None = None


def _start(
    args: list[str], port: int, *, under_test: bool = False
) -> tuple[subprocess.Popen[bytes], str]:
    pin = ["taskset", "-c", ",".join(map(str, PROXY_CPUS))] if under_test and PROXY_CPUS else []
    process = subprocess.Popen([*pin, sys.executable, "-m", *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    _wait(url, process)
    return process, url


def _policy(work: Path, classifiers: bool) -> Path:
    policy = yaml.safe_load(default_policy_text())
    if not classifiers:
        policy["request"]["classifiers"] = []
    path = work / f"policy-{'default' if classifiers else 'verdicts'}.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path


def _seed(state: str) -> None:
    store = open_store(state)
    for i in range(0, 500, 50):
        store.set(Verdict(f"bench-{i}", "degrade", "benchmark", "detector", now()))
    store.close()


def _warm(url: str) -> None:
    run_load(url, 200, 1.0)


def _added(result: LoadResult, direct: LoadResult) -> dict[str, float]:
    return {"added_p50_ms": result.p50_ms - direct.p50_ms,
            "added_p99_ms": result.p99_ms - direct.p99_ms}  # fmt: skip


def _bare_proxy(
    upstream_url: str, upstream_pid: int, rates: list[int], seconds: float,
    direct: dict[int, LoadResult],
) -> dict[int, dict[str, Any]]:  # fmt: skip
    """The floor: a pass-through proxy on the same stack with none of the gateway's work."""
    port = free_port()
    proxy, url = _start(["benchmarks.gateway.bare_proxy", "--upstream", upstream_url,
                         "--port", str(port)], port, under_test=True)  # fmt: skip
    rows = {}
    try:
        _warm(url)
        for rate in rates:
            result = run_load(
                url, rate, seconds, pids={"gateway": proxy.pid, "upstream": upstream_pid}
            )
            rows[rate] = {"path": "bare proxy", "store": "-", "policy": "-", **asdict(result),
                          **_added(result, direct[rate])}  # fmt: skip
            print(json.dumps(rows[rate]), file=sys.stderr)
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)
    return rows


def bench(work: Path, rates: list[int], seconds: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with redis_server(work) as redis:
        port = free_port()
        upstream, upstream_url = _start(["benchmarks.gateway.upstream", "--port", str(port)], port)
        try:
            _warm(upstream_url)
            pids = {"upstream": upstream.pid}
            direct = {rate: run_load(upstream_url, rate, seconds, pids=pids) for rate in rates}
            for result in direct.values():
                rows.append({"path": "direct", "store": "-", "policy": "-", **asdict(result)})
            bare = _bare_proxy(upstream_url, upstream.pid, rates, seconds, direct)
            rows += bare.values()
            for store in ("file", "redis"):
                for classifiers in (False, True):
                    state = str(work / "verdicts.jsonl") if store == "file" else redis.url
                    rows += _through_gateway(work, (upstream_url, upstream.pid), state, store,
                                             classifiers, rates, seconds, direct, bare)  # fmt: skip
        finally:
            upstream.terminate()
            upstream.wait(timeout=30)
    return rows


def _through_gateway(  # noqa: PLR0917
    work: Path,
    upstream: tuple[str, int],
    state: str,
    store: str,
    classifiers: bool,
    rates: list[int],
    seconds: float,
    direct: dict[int, LoadResult],
    bare: dict[int, dict[str, Any]],
) -> list[dict[str, Any]]:
    _seed(state)
    port = free_port()
    args = ["distillguard.cli.main", "gateway", "--upstream", upstream[0], "--listen",
            f"127.0.0.1:{port}", "--state", state, "--mode", "enforce",
            "--policy", str(_policy(work, classifiers)),
            "--log-dir", str(work / "exchanges")]  # fmt: skip
    gateway, url = _start(args, port, under_test=True)
    rows = []
    try:
        _warm(url)
        for rate in rates:
            result = run_load(
                url, rate, seconds, pids={"gateway": gateway.pid, "upstream": upstream[1]}
            )
            policy = "default" if classifiers else "verdicts"
            over = {"over_bare_p99_ms": result.p99_ms - bare[rate]["p99_ms"]}
            rows.append({"path": "gateway", "store": store, "policy": policy, **asdict(result),
                         **_added(result, direct[rate]), **over})  # fmt: skip
            print(json.dumps(rows[-1]), file=sys.stderr)
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| path | store | policy | rate | achieved/s | ok | errors | p50 ms | p99 ms "
            "| added p50 | added p99 | p99 over bare proxy | client late p99 | CPU ms/req gateway "
            "| upstream | client | load avg |")  # fmt: skip
    lines = [head, "|" + "---|" * 17]
    for r in rows:
        added = (f"{r['added_p50_ms']:.2f} | {r['added_p99_ms']:.2f}" if "added_p50_ms" in r
                 else "- | -")  # fmt: skip
        cpu = r["cpu_ms_per_request"]
        over = f"{r['over_bare_p99_ms']:.2f}" if "over_bare_p99_ms" in r else "-"
        lines.append(
            f"| {r['path']} | {r['store']} | {r['policy']} | {r['rate']} | {r['achieved_rps']:.0f} "
            f"| {r['ok']} | {r['errors']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {added} "
            f"| {over} "
            f"| {r['late_p99_ms']:.1f} | {cpu.get('gateway', 0):.2f} | {cpu['upstream']:.2f} "
            f"| {cpu['client']:.2f} | {r['load_average']:.1f} |"
        )
    return "\n".join(lines)


def decide_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| store | policy | calls | p50 ms | p99 ms | CPU ms/call | failures | load avg |",
             "|" + "---|" * 8]  # fmt: skip
    lines += [
        f"| {r['store']} | {r['policy']} | {r['calls']} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} "
        f"| {r['cpu_ms_per_call']:.3f} | {r['failures']} | {r['load_average']:.1f} |"
        for r in rows
    ]
    return "\n".join(lines)


def decisions(work: Path) -> list[dict[str, Any]]:
    with redis_server(work) as redis:
        states = (str(work / "verdicts.jsonl"), redis.url)
        for state in states:
            _seed(state)
        return [bench_decide(s, c) for s in states for c in (False, True)]


def _pin() -> None:
    """The proxy under test on the last CPU; this harness, the upstream and Redis on the rest."""
    global PROXY_CPUS  # noqa: PLW0603
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("--pin needs at least 2 CPUs")
    PROXY_CPUS = {cpus[-1]}
    os.sched_setaffinity(0, set(cpus[:-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--work", type=Path, default=Path("bench-out/gateway"))
    parser.add_argument("--only-decide", action="store_true", help="skip the HTTP benchmark")
    parser.add_argument(
        "--pin", action="store_true", help="run the proxy under test on a CPU of its own"
    )
    args = parser.parse_args()
    if args.pin:
        _pin()
    args.work.mkdir(parents=True, exist_ok=True)
    decided = decisions(args.work)
    print(decide_table(decided), flush=True)
    rows = [] if args.only_decide else bench(args.work, args.rates, args.seconds)
    (args.work / "results.json").write_text(json.dumps({"decide": decided, "http": rows}, indent=2))
    if rows:
        print(table(rows))


if __name__ == "__main__":
    main()
