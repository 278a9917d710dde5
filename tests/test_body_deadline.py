"""Every distillguard server answers 408 to a request body that takes too long, over real
sockets on loopback, with each of the two protocols the servers use; a slow answer and an
upload within the deadline are left alone."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route

from distillguard.body_deadline import BodyDeadline
from distillguard.cli.listen import server_config
from distillguard.errors import ConfigError
from tests.fake_upstream import running
from tests.redis_server import free_port

DEADLINE = 0.6
PARTS = 18  # a tenth of a second each: three deadlines long
HEAD = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
PROTOCOLS = [
    pytest.param(True, id="h11 (console, TAXII)"),
    pytest.param(False, id="httptools (gateway)"),
]


async def echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse((await request.body()).decode())


async def refuse(request: Request) -> PlainTextResponse:
    return PlainTextResponse("no", status_code=401)  # before reading the body


async def slow(request: Request) -> StreamingResponse:
    await request.body()

    async def parts() -> AsyncIterator[bytes]:
        for _ in range(PARTS):
            yield b"."
            await asyncio.sleep(0.1)

    return StreamingResponse(parts())


async def broken(request: Request) -> StreamingResponse:
    """An answer that breaks off: uvicorn closes the connection with the answer unfinished."""

    async def parts() -> AsyncIterator[bytes]:
        yield b"."
        raise RuntimeError("broken off")

    return StreamingResponse(parts())


@contextmanager
def served(small_requests: bool) -> Iterator[tuple[str, int]]:
    routes = [Route("/", echo, methods=["POST", "GET"]), Route("/slow", slow, methods=["POST"])]
    routes += [Route("/refuse", refuse, methods=["POST"]), Route("/broken", broken)]
    app = Starlette(routes=routes, middleware=[Middleware(BodyDeadline, seconds=DEADLINE)])
    port = free_port()
    config = server_config(app, host="127.0.0.1", port=port, log_level="warning",
                           small_requests=small_requests)  # fmt: skip
    with running(config):
        yield "127.0.0.1", port


def _send_slowly(sock: socket.socket, data: bytes, every: float) -> None:
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return
        time.sleep(every)


def _reply(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


@pytest.mark.parametrize("small_requests", PROTOCOLS)
def test_a_body_past_the_deadline_gets_408_and_the_connection_closes(
    small_requests: bool,
) -> None:
    with served(small_requests) as address, socket.create_connection(address) as sock:
        sock.sendall(HEAD)
        _send_slowly(sock, b"hel", every=DEADLINE / 2)  # 1.5 deadlines, two bytes short
        reply = _reply(sock)  # ends: the server closed the connection
        assert reply.startswith(b"HTTP/1.1 408")
        assert b"request body too slow" in reply


@pytest.mark.parametrize("small_requests", PROTOCOLS)
def test_an_answer_before_the_body_is_whole_closes_the_connection(small_requests: bool) -> None:
    """A 401 sent before reading let uvicorn drain the rest of the body untimed: a client
    with no credentials held the connection, a byte every few seconds."""
    with served(small_requests) as address, socket.create_connection(address) as sock:
        sock.sendall(HEAD.replace(b"POST /", b"POST /refuse") + b"h")
        reply = _reply(sock)  # ends: closed, though 4 bytes of the body never came
        assert reply.startswith(b"HTTP/1.1 401")
        assert b"connection: close" in reply.lower()


@pytest.mark.parametrize("small_requests", PROTOCOLS)
def test_a_request_without_a_body_keeps_its_connection(small_requests: bool) -> None:
    get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    with served(small_requests) as address, socket.create_connection(address) as sock:
        for _ in range(2):  # the second request rides the same connection
            sock.sendall(get)
            reply = _reply_until(sock, b"\r\n\r\n")
            assert reply.startswith(b"HTTP/1.1 200") and b"connection: close" not in reply.lower()


@pytest.mark.parametrize("small_requests", PROTOCOLS)
def test_a_body_within_the_deadline_is_answered(small_requests: bool) -> None:
    with served(small_requests) as address, socket.create_connection(address) as sock:
        sock.sendall(HEAD)
        _send_slowly(sock, b"hello", every=DEADLINE / 10)  # half the deadline
        assert _reply_until(sock, b"hello").startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("small_requests", PROTOCOLS)
def test_an_answer_longer_than_the_deadline_is_not_cut(small_requests: bool) -> None:
    """Starlette listens for the client leaving while it streams: that read is not timed."""
    with served(small_requests) as address, socket.create_connection(address) as sock:
        sock.sendall(HEAD.replace(b"POST /", b"POST /slow") + b"hello")
        reply = _reply_until(sock, b"0\r\n\r\n")  # the chunked answer's end
        assert reply.startswith(b"HTTP/1.1 200")
        assert reply.count(b"1\r\n.\r\n") == PARTS


def _reply_until(sock: socket.socket, end: bytes) -> bytes:
    sock.settimeout(5)
    data = b""
    while end not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.parametrize("seconds", [0, -1.0])
def test_a_deadline_must_be_positive(seconds: float) -> None:
    with pytest.raises(ConfigError, match="positive"):
        BodyDeadline(Starlette(), seconds=seconds)
