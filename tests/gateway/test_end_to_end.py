"""The loop closed: simulated traffic replayed through the gateway, detected while it runs.

A day of simulated traffic (two benign populations and a reasoning-harvest campaign) is
replayed through a real gateway on loopback, in front of the fake upstream, as fast as it
goes; the gateway stamps each exchange with its simulated time (replay clock) and writes
the exchange log; `watch` ingests the rotated files, detects and publishes verdicts in a
thread alongside. After the first half-day, the verdicts that appeared are enforced on
the second half: flagged accounts are acted on, benign accounts are untouched. The fake
upstream stands in for the model (there is no internet here) and answers each replayed
request with the token counts the simulated model returned.
"""

from __future__ import annotations

import gzip
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson

from distillguard.cli.main import main
from distillguard.verdicts.file_store import FileStore
from distillguard.verdicts.policy import Request, load_policy
from distillguard.verdicts.watch import Watcher
from tests.fake_upstream import FakeUpstream
from tests.gateway.conftest import ServeGateway
from tests.gateway.replay import openai_request, replay_headers

PRESET = Path(__file__).with_name("e2e_preset.yaml")
HALF_DAY = "2026-02-02T12:00:00"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]


def replay(url: str, rows: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    """(account, status, action) per row, sent by four clients in simulated-time order."""

    def send(client: httpx.Client, row: dict[str, Any]) -> tuple[str, int, str]:
        r = client.post(url + "/v1/chat/completions", json=openai_request(row),
                        headers=replay_headers(row))  # fmt: skip
        return row["account_id"], r.status_code, r.headers["x-distillguard-action"]

    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda row: send(client, row), rows))


def test_campaign_is_acted_on_while_it_runs(
    serve_gateway: ServeGateway, upstream: FakeUpstream, tmp_path: Path
) -> None:
    sim = tmp_path / "sim"
    args = ["simulate", "--preset", str(PRESET), "--seed", "1", "--format", "jsonl"]
    assert main([*args, "--out", str(sim)]) == 0
    rows = sorted(read_jsonl(sim / "exchanges.jsonl.gz"), key=lambda r: r["ts"])
    attack = {
        r["account_id"] for r in read_jsonl(sim / "labels.jsonl.gz") if r["label"] == "attack"
    }
    # The fake upstream answers each replayed request as the simulated model did (its token
    # counts and stop reason): the outputs' size is evidence detection weighs.
    upstream.recorded.update({r["request_id"]: r for r in rows})
    first = [r for r in rows if r["ts"] < HALF_DAY]
    second = [r for r in rows if r["ts"] >= HALF_DAY]
    state = tmp_path / "verdicts.jsonl"
    # Replayed at speed, a day's requests arrive in seconds: the wall-clock rate rule is off.
    request = Request(classifiers=load_policy().request.classifiers, rate=None)
    settings = {"replay_clock": True, "trust_forwarded": True, "log_rotate_rows": 200,
                "log_rotate_s": 0.3}  # fmt: skip
    stop = threading.Event()
    inbox = tmp_path / "exchanges"
    watcher = Watcher(tmp_path / "lake", inbox, FileStore(state), load_policy(),
                      accounts=[sim / "accounts.jsonl.gz"])  # fmt: skip

    ticking = threading.Lock()  # held while a tick ingests, detects and publishes

    def watch() -> None:
        while not stop.is_set():
            with ticking:
                watcher.tick()
            stop.wait(0.3)

    def caught_up() -> bool:
        """Every exchange served so far is in a rotated file that a finished tick took in."""
        if any(inbox.glob("*.partial")) or watcher.new_files():
            return False
        with ticking:
            return True

    with serve_gateway(str(state), request=request, settings=settings) as (url, _):
        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        try:
            served_first = replay(url, first)
            deadline = time.monotonic() + 120
            while not caught_up() and time.monotonic() < deadline:
                time.sleep(0.2)
            verdicts = {v.subject: v.action for v in FileStore(state).list() if v.kind == "account"}
            served_second = replay(url, second)
        finally:
            stop.set()
            thread.join(timeout=120)
    flagged = set(verdicts)
    print(f"e2e: {len(first)}+{len(second)} replayed, verdicts {verdicts}, attack {len(attack)}")
    assert flagged and flagged <= attack  # verdicts appeared, for attack accounts only
    later = [(a, s, act) for a, s, act in served_second if a in flagged]
    assert later and all(act == verdicts[a] and s == 403 for a, s, act in later if
                         verdicts[a].startswith("block"))  # fmt: skip
    assert all(act != "none" for _, _, act in later)
    benign = [(s, act) for a, s, act in served_first + served_second if a not in attack]
    assert benign and all(s == 200 for s, _ in benign)
    assert sum(act == "none" for _, act in benign) >= 0.99 * len(benign)
    assert sum(s == 200 for a, s, _ in served_first if a in attack) > 0  # it ran before
