"""The gateway answers 408 to a request body trickled in past the deadline, in the error
shape its clients read, and never calls the upstream with it (real HTTP on loopback)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from distillguard import body_deadline
from tests.fake_upstream import FakeUpstream
from tests.gateway.conftest import ServeGateway
from tests.gateway.test_exchange_log import logged_rows


def test_a_body_past_the_deadline_gets_408_and_no_upstream_call(
    serve_gateway: ServeGateway,
    upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(body_deadline, "BODY_SECONDS", 0.5)
    before = len(upstream.requests)
    with serve_gateway(settings={"max_body_bytes": 1000}) as (url, _):
        where = urlsplit(url)
        head = (
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            "Authorization: Bearer sk-slow-body\r\nContent-Type: application/json\r\n"
            "Content-Length: 200\r\n\r\n"
        )
        with socket.create_connection((where.hostname, where.port)) as sock:
            sock.sendall(head.encode() + b'{"model": "m", "mess')  # then nothing more
            sock.settimeout(5)
            reply = b""
            while chunk := sock.recv(4096):  # the gateway closes the connection
                reply += chunk
    status, _, body = reply.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 408")
    error = json.loads(body)["error"]  # where the OpenAI and Anthropic SDKs look
    assert error["type"] == "request_timeout" and "too slow" in error["message"]
    assert len(upstream.requests) == before
    [row] = logged_rows(tmp_path / "exchanges")  # every request, refused or served, is a row
    assert row["status"] == 408 and str(row["account_id"]).startswith("unauthenticated:")


@pytest.mark.parametrize(
    ("max_body_bytes", "seconds"),
    [(1_000, 60.0), (4 * 1024 * 1024, 64.0), (32 * 1024 * 1024, 512.0)],
)
def test_a_gateway_taking_large_bodies_gives_them_longer(
    max_body_bytes: int, seconds: float
) -> None:
    """At 60 s whatever the cap, a gateway raised to 32 MB for images asked its clients
    for 4.5 Mbit/s of upload; the OpenAI and Anthropic SDKs retry a 408 twice."""
    assert body_deadline.body_seconds(max_body_bytes) == seconds
