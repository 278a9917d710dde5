"""Every distillguard server cuts off a client whose request head takes too long (slowloris),
over real sockets on loopback, with each of the two protocols the servers use."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route

from distillguard.cli.listen import HEAD_BYTES, server_config
from distillguard.errors import ConfigError
from distillguard.head_deadline import H11WithHeadDeadline, with_deadline
from tests.fake_upstream import running
from tests.redis_server import free_port

DEADLINE = 0.6
HEAD = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"


async def echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse((await request.body()).decode())


async def refuse(request: Request) -> PlainTextResponse:
    return PlainTextResponse("no", status_code=401)  # before reading the body


async def slow(request: Request) -> StreamingResponse:
    async def parts() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"."
            await asyncio.sleep(0.1)

    return StreamingResponse(parts())


@contextmanager
def served(small_requests: bool, deadline: float = DEADLINE) -> Iterator[tuple[str, int]]:
    routes = [Route("/", echo, methods=["POST"]), Route("/refuse", refuse, methods=["POST"])]
    app = Starlette(routes=[*routes, Route("/slow", slow)])
    port = free_port()
    config = server_config(app, host="127.0.0.1", port=port, log_level="warning",
                           small_requests=small_requests, head_seconds=deadline)  # fmt: skip
    with running(config):
        yield "127.0.0.1", port


def _trickle(sock: socket.socket, data: bytes, every: float, seconds: float) -> None:
    """Send `data` a byte at a time for at most `seconds`, or until sending fails."""
    stop = time.monotonic() + seconds
    for byte in data:
        if time.monotonic() > stop:
            return
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return
        time.sleep(every)


def _closed_unanswered(sock: socket.socket) -> bool:
    sock.settimeout(1)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def _answer(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    data = b""
    while b"hello" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


PROTOCOLS = [
    pytest.param(True, id="h11 (console, TAXII)"),
    pytest.param(False, id="httptools (gateway)"),
]


@pytest.mark.parametrize("small_requests", PROTOCOLS)
def test_a_head_sent_a_byte_at_a_time_is_cut_off(small_requests: bool) -> None:
    with served(small_requests) as address, socket.create_connection(address) as sock:
        _trickle(sock, HEAD * 4, every=0.1, seconds=4 * DEADLINE)
        assert _closed_unanswered(sock)


@pytest.mark.parametrize("small_requests", PROTOCOLS)
def test_a_slow_body_after_a_whole_head_is_answered(small_requests: bool) -> None:
    """The deadline is for the head: an upload that takes its time is read to the end."""
    with served(small_requests) as address, socket.create_connection(address) as sock:
        sock.sendall(HEAD)
        _trickle(sock, b"hello", every=2 * DEADLINE / 5 + 0.1, seconds=10)  # 2.2 deadlines
        assert _answer(sock).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("small_requests", PROTOCOLS)
def test_the_next_head_on_a_kept_connection_has_its_own_deadline(small_requests: bool) -> None:
    with served(small_requests) as address, socket.create_connection(address) as sock:
        sock.sendall(HEAD + b"hello")
        assert _answer(sock).startswith(b"HTTP/1.1 200")
        time.sleep(DEADLINE / 2)  # a pause after a response does not use up the next head's time
        sock.sendall(HEAD + b"hello")
        assert _answer(sock).startswith(b"HTTP/1.1 200")
        _trickle(sock, HEAD, every=0.1, seconds=4 * DEADLINE)
        assert _closed_unanswered(sock)


def test_a_deadline_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="positive"):
        with_deadline(H11WithHeadDeadline, 0)


@pytest.mark.parametrize("small_requests", PROTOCOLS)
def test_one_header_that_never_ends_is_cut_at_the_cap(small_requests: bool) -> None:
    """httptools gathers a header's value whole before handing it over, so counting the
    headers it handed over let one endless header grow to 90 MB in the ten seconds of the
    deadline. The deadline is long here: the cap, not the clock, must close it."""
    with served(small_requests, deadline=60) as address, socket.create_connection(address) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
        _send_for(s, b"a" * 4096, 4 * HEAD_BYTES)
        assert _refused(s)


def _refused(sock: socket.socket) -> bool:
    """A 400, or the connection closed, within two seconds (not left open)."""
    sock.settimeout(2)
    try:
        data = sock.recv(1024)
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return data == b"" or data.startswith(b"HTTP/1.1 400")


def _send_for(sock: socket.socket, block: bytes, total: int) -> None:
    sent = 0
    try:
        while sent < total:
            sock.sendall(block)
            sent += len(block)
    except (BrokenPipeError, ConnectionResetError):
        return


@pytest.mark.parametrize("small_requests", PROTOCOLS)
def test_an_upload_answered_early_is_not_cut(small_requests: bool) -> None:
    """A 401 before the body is read: the body still arriving is the request's, not the
    next head's (counted as one, it got a second answer, 400, and a reset)."""
    head = b"POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n"
    with served(small_requests) as address, socket.create_connection(address) as sock:
        sock.sendall(head)
        for _ in range(16):  # 1 MB over about 2.5 deadlines
            sock.sendall(b"b" * 65536)
            time.sleep(0.1)
        answer = _answer_to(sock, b"no")
    assert answer.startswith(b"HTTP/1.1 401") and b"400" not in answer.split(b"\r\n", 1)[1]


def test_an_endless_header_behind_a_streamed_answer_is_cut() -> None:
    """The next request's head arriving while a response streams was neither counted nor
    timed: 200 MB of one header were read and held."""
    with served(False, deadline=60) as address, socket.create_connection(address) as s:
        s.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nX-Big: ")
        _send_for(s, b"a" * 4096, 16 * HEAD_BYTES)
        assert _refused_or_streaming_cut(s)


def test_a_whole_head_past_the_cap_behind_a_streamed_answer_writes_nothing_into_it() -> None:
    """A head just past the cap, whole in one send behind a stream, was refused with a 400
    written into the middle of the streamed body (the review's find): it closes now."""
    with served(False, deadline=60) as address, socket.create_connection(address) as s:
        s.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.5)  # the stream under way
        s.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * (HEAD_BYTES + 100) + b"\r\n\r\n")
        s.settimeout(6)
        received = b""
        try:
            while chunk := s.recv(4096):
                received += chunk
        except ConnectionResetError:
            pass
    assert b"400 Bad Request" not in received and b"Request head too large" not in received


def _answer_to(sock: socket.socket, ending: bytes) -> bytes:
    sock.settimeout(5)
    data = b""
    while not data.endswith(ending):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _refused_or_streaming_cut(sock: socket.socket) -> bool:
    """The connection closed before the four-second stream could end."""
    sock.settimeout(3)
    try:
        while chunk := sock.recv(4096):
            if chunk.endswith(b"0\r\n\r\n"):  # the whole stream came: not cut
                return False
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True
