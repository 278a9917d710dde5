"""distillguard's servers close a connection in stages, over real sockets on loopback:
an answer sent before the client's upload was read whole reaches the client with a clean
end of stream, not a reset; the lingering is bounded; a stopping server does not linger."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from distillguard import lingering_close
from tests.test_body_deadline import HEAD, PROTOCOLS, _reply, served

UPLOAD = 2 * 1024 * 1024  # past what uvicorn reads before flow control pauses its reads


@pytest.mark.parametrize("small_requests", PROTOCOLS)
def test_an_early_answer_to_an_upload_arrives_whole_and_ends_cleanly(
    small_requests: bool,
) -> None:
    """The client's bytes the server never read made its close a reset: the client read
    ECONNRESET where the 401 was, three times of three before the lingering close."""
    head = b"POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (UPLOAD + 1)
    with served(small_requests) as address, socket.create_connection(address) as sock:
        sender = threading.Thread(target=sock.sendall, args=(head + b"x" * UPLOAD,))
        sender.start()
        sender.join(timeout=10)
        time.sleep(0.3)  # the 401 went out and the server closed its side
        reply = _reply(sock)
    assert reply.startswith(b"HTTP/1.1 401")
    assert b"connection: close" in reply.lower()


@pytest.mark.parametrize("small_requests", PROTOCOLS)
def test_a_client_that_goes_on_sending_is_cut_off_after_the_linger(
    small_requests: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lingering_close, "LINGER_SECONDS", 0.5)
    with served(small_requests) as address, socket.create_connection(address) as sock:
        began = time.monotonic()  # before the server's close: its linger starts later
        sock.sendall(HEAD.replace(b"POST /", b"POST /refuse") + b"h")
        assert _reply(sock).startswith(b"HTTP/1.1 401")  # and the end of stream
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            while time.monotonic() - began < 10:
                sock.sendall(b"x")  # dropped while the server lingers, then refused
                time.sleep(0.05)
        assert time.monotonic() - began >= lingering_close.LINGER_SECONDS


IDLE = (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 200")  # kept alive
LINGERING = (HEAD.replace(b"POST /", b"POST /refuse") + b"h", b"HTTP/1.1 401")  # closed by us
BROKEN = (b"GET /broken HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 200")  # and unfinished


@pytest.mark.parametrize("small_requests", PROTOCOLS)
@pytest.mark.parametrize(
    ("request_", "answer"), [IDLE, LINGERING, BROKEN], ids=["idle", "lingering", "broken off"]
)
def test_a_stopping_server_does_not_linger(
    small_requests: bool, request_: bytes, answer: bytes
) -> None:
    """A client that keeps its side open (an idle keep-alive connection, or one we closed
    and linger on, with our answer whole or broken off) does not hold a stopping server."""
    with served(small_requests) as address:
        sock = socket.create_connection(address)
        sock.sendall(request_)
        sock.settimeout(5)
        assert sock.recv(4096).startswith(answer)
        began = time.monotonic()
    stopped_in = time.monotonic() - began
    sock.close()
    assert stopped_in < lingering_close.LINGER_SECONDS / 2
