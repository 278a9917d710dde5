"""A deadline for each request's head: a client that sends its headers slowly is cut off.

uvicorn closes an idle keep-alive connection after a few seconds, but any byte restarts
that timer, and nothing bounds how long a request line and its headers may take. A client
that trickles a byte every few seconds (slowloris) holds a connection for as long as it
likes, and a few hundred such clients hold the server's sockets. Here each connection
must deliver a request's head within `head_seconds` of opening, or of its last response;
otherwise it is closed unanswered (no application saw the request). Bodies and responses
are not bounded: a streamed answer may take minutes.

The two protocol classes are uvicorn's own (h11 for the console and TAXII, httptools for
the gateway), each told where a head starts to be awaited and where it is complete; the
httptools one also refuses a head over HEAD_BYTES, as h11 does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from distillguard.cli.listen import HEAD_BYTES
from distillguard.errors import ConfigError
from distillguard.lingering_close import LingeringTransport

HEAD_TOO_LARGE = "Request head too large."
HEAD_SECONDS = 10.0  # a browser or SDK sends its head in one packet; a proxy, in a few
_log = logging.getLogger("uvicorn.error")


class _Deadline:
    """One connection's timer for the request head it is waiting for."""

    def __init__(self, loop: asyncio.AbstractEventLoop, transport: asyncio.Transport) -> None:
        self._loop, self._transport = loop, transport
        self._timer: asyncio.TimerHandle | None = None

    def run(self, seconds: float) -> None:
        """Start the timer unless it runs already: bytes of a head that arrive later do
        not give it more time."""
        if self._timer is None and not self._transport.is_closing():
            self._timer = self._loop.call_later(seconds, self._expire)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if not self._transport.is_closing():
            _log.info("closed a connection whose request head was not complete in time")
            self._transport.close()


def head_size(target: bytes, headers: Iterable[tuple[bytes, bytes]]) -> int:
    """A head's bytes as sent, near enough: the target, and each header's name and value
    with its colon, space and line end (the method and version add a few)."""
    return len(target) + sum(len(name) + len(value) + 4 for name, value in headers)


def _answering(cycle: object) -> bool:
    """Whether a response is being written (its request's head came whole)."""
    return cycle is not None and not getattr(cycle, "response_complete", True)


class _FollowsHead(asyncio.Protocol):
    """What both protocols share: a deadline opened with the connection and dropped with
    it, and a close in stages (lingering_close: the bytes a client sends after our last
    answer are read and dropped); each class says in `_follow` when a head is awaited."""

    head_seconds = HEAD_SECONDS
    loop: asyncio.AbstractEventLoop

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._closing = LingeringTransport(cast(asyncio.Transport, transport), self.loop)
        super().connection_made(self._closing)
        self._deadline = _Deadline(self.loop, self._closing)
        self._follow()

    def data_received(self, data: bytes) -> None:
        if not self._closing.lingering:
            super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadline.cancel()
        self._closing.forget()
        super().connection_lost(exc)

    def _follow(self) -> None:
        raise NotImplementedError


class H11WithHeadDeadline(_FollowsHead, H11Protocol):
    """h11 with a deadline: it runs while h11 waits for a request (its peer IDLE: no head
    yet, or part of one) and no response is being written, so an upload still arriving
    after an early answer is not cut. h11 caps the head's size itself."""

    _head_too_large = False

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def handle_events(self) -> None:
        """h11 caps a head still arriving (HEAD_BYTES then one more read of up to 64 KB
        could complete it); a whole head is measured too, so the cap is HEAD_BYTES."""
        take = self.conn.next_event

        def measured() -> object:
            try:
                event = take()
            except h11.RemoteProtocolError as exc:  # its own cap says "Receive buffer too long"
                self._head_too_large = "buffer too long" in str(exc)
                raise
            if isinstance(event, h11.Request) and head_size(event.target, event.headers) > (
                HEAD_BYTES
            ):
                self._head_too_large = True
                raise h11.RemoteProtocolError("request head too large")  # uvicorn's 400
            return event

        setattr(self.conn, "next_event", measured)  # noqa: B010 - an instance's own method
        try:
            super().handle_events()
        finally:
            delattr(self.conn, "next_event")

    def send_400_response(self, msg: str) -> None:
        super().send_400_response(HEAD_TOO_LARGE if self._head_too_large else msg)

    def shutdown(self) -> None:
        self._closing.stop_lingering()  # the server is stopping: no connection lingers
        super().shutdown()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def _follow(self) -> None:
        if self.conn.their_state is h11.IDLE and not _answering(self.cycle):
            self._deadline.run(self.head_seconds)
        else:
            self._deadline.cancel()


class HttpToolsWithHeadDeadline(_FollowsHead, HttpToolsProtocol):
    """httptools with a deadline, run as h11's is (between requests, or inside a head,
    while no response is being written), and a cap on a head's size: httptools has none
    (it gathers a header's value, however long, before it hands it over) and held 500
    headers of a megabyte each. The bytes of each read that leaves a head unfinished are
    counted; past HEAD_BYTES the request is refused with 400 (or, were a response being
    written, the connection closed)."""

    _in_message = False  # from a request's first byte to its body's end
    _in_head = False  # from a request's first byte to its head's end
    _head_bytes = 0
    _head_too_large = False

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Still inside a head after this read: the read counts whole (a pipelined head
        # begun after a body's last bytes in one read counts those bytes too).
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > HEAD_BYTES:
                self._refuse()
                return
        self._follow()

    def on_message_begin(self) -> None:
        self._in_message = self._in_head = True
        self._head_bytes = 0
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head = False
        # Reads that left the head unfinished were counted; the read that completed it was
        # not (a cap of HEAD_BYTES let 128 KB through): the whole head is measured here.
        if head_size(self.url, self.headers) > HEAD_BYTES:
            self._head_too_large = True
            raise ValueError("request head too large")  # httptools' parser error: a 400
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if self._head_too_large and _answering(self.cycle):
            self.transport.close()  # a 400 now would land inside that response
            return
        super().send_400_response(HEAD_TOO_LARGE if self._head_too_large else msg)

    def shutdown(self) -> None:
        self._closing.stop_lingering()  # the server is stopping: no connection lingers
        super().shutdown()

    def on_message_complete(self) -> None:
        self._in_message = False
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def _follow(self) -> None:
        waiting = not self._in_message or self._in_head
        if waiting and not _answering(self.cycle):
            self._deadline.run(self.head_seconds)
        else:
            self._deadline.cancel()

    def _refuse(self) -> None:
        self._deadline.cancel()
        if _answering(self.cycle):  # a 400 now would land inside that response
            self.transport.close()
        else:
            self.send_400_response(HEAD_TOO_LARGE)


def with_deadline(
    protocol: type[H11WithHeadDeadline] | type[HttpToolsWithHeadDeadline], seconds: float
) -> type[asyncio.Protocol]:
    """The protocol class with its own head deadline (tests use a short one)."""
    if seconds <= 0:
        raise ConfigError(f"a request head deadline must be positive seconds, not {seconds}")
    return type(protocol.__name__, (protocol,), {"head_seconds": seconds})
