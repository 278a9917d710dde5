"""What every distillguard server takes from a request's head, over real HTTP: never the
client's address from X-Forwarded-For, and no head past HEAD_BYTES."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from distillguard.cli.listen import HEAD_BYTES, server_config
from tests.fake_upstream import running
from tests.redis_server import free_port


async def whoami(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.client.host if request.client else "?")


@contextmanager
def served(small_requests: bool) -> Iterator[str]:
    app = Starlette(routes=[Route("/", whoami)])
    config = server_config(app, host="127.0.0.1", port=free_port(), log_level="warning",
                           small_requests=small_requests)  # fmt: skip
    with running(config) as url:
        yield url + "/"


@pytest.mark.parametrize("small_requests", [True, False])
def test_a_forwarded_address_is_not_the_clients(small_requests: bool) -> None:
    """A login throttle keyed on it was walked past with one address per attempt."""
    with served(small_requests) as url:
        answer = httpx.get(url, headers={"x-forwarded-for": "10.9.8.1"})
    assert answer.text == "127.0.0.1"


@pytest.mark.parametrize("small_requests", [True, False], ids=["h11", "httptools"])
def test_a_head_past_the_cap_is_refused(small_requests: bool) -> None:
    with served(small_requests) as url:
        fine = httpx.get(url, headers={"x-pad": "a" * 1000})
        try:
            status = httpx.get(url, headers={"x-pad": "a" * (2 * HEAD_BYTES)}).status_code
        except httpx.TransportError:  # the connection closed (or reset) unanswered: refused
            status = 0
    assert fine.status_code == 200 and status in (0, 400, 431)


@pytest.mark.parametrize("small_requests", [True, False], ids=["h11", "httptools"])
@pytest.mark.parametrize("pad", [HEAD_BYTES - 200, HEAD_BYTES + 10, 2 * HEAD_BYTES - 2000])
def test_the_cap_is_the_head_whatever_reads_it_came_in(small_requests: bool, pad: int) -> None:
    """A head was counted by the reads that left it unfinished: the read that completed
    it was not, so a head of up to twice the cap was taken (the new user's find)."""
    with served(small_requests) as url:
        try:
            answer = httpx.get(url, headers={"x-pad": "a" * pad})
        except httpx.TransportError:  # refused while still sending (the cap of a head
            assert pad > HEAD_BYTES + 10  # still arriving): the connection closed
            return
    if pad < HEAD_BYTES:
        assert answer.status_code == 200
    else:
        assert answer.status_code == 400 and "Request head too large." in answer.text
