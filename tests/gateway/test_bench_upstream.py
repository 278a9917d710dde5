"""The gateway benchmark's fake upstream keeps nothing of what it serves.

It once kept every request (a subclass's `__post_init__` that the parent dataclass's
`__init__` never called): its memory grew over a benchmark and its full garbage
collections, growing with it, were measured as the gateway's latency.
"""

from __future__ import annotations

from benchmarks.gateway.upstream import Forgetful
from starlette.testclient import TestClient

from tests.fake_upstream import build


def test_the_benchmark_upstream_answers_and_keeps_no_request() -> None:
    fake = Forgetful()
    with TestClient(build(fake)) as client:
        for i in range(3):
            body = {"model": "m", "messages": [{"role": "user", "content": f"q{i}"}]}
            assert client.post("/v1/chat/completions", json=body).status_code == 200
    assert len(fake.requests) == 0
