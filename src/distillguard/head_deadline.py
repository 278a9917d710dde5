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

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from distillguard.cli.listen import HEAD_BYTES
from distillguard.errors import ConfigError

HEAD_SECONDS = 10.0  # a browser or SDK sends its head in one packet; a proxy, in a few
_log = logging.getLogger("uvicorn.error")


class _Deadline:
    """One connection's timer for the request head it is waiting for."""

    def __init__(self, loop: asyncio.AbstractEventLoop, transport: asyncio.Transport) -> None:
        self._loop, self._transport = loop, transport
        self._timer: asyncio.TimerHandle | None = None

    def wait(self, seconds: float) -> None:
        self.cancel()
        if not self._transport.is_closing():
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


class H11WithHeadDeadline(H11Protocol):
    head_seconds = HEAD_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline = _Deadline(self.loop, transport)
        self._deadline.wait(self.head_seconds)

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadline.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        before = self.cycle
        super().data_received(data)
        if self.cycle is not before:  # h11 gave a whole request head: a new cycle
            self._deadline.cancel()

    def on_response_complete(self) -> None:
        before = self.cycle
        super().on_response_complete()
        if self.cycle is before:  # no pipelined request started: await the next head
            self._deadline.wait(self.head_seconds)


class HeadTooLargeError(Exception):
    """Raised in a parser callback: httptools turns it into a parser error, which uvicorn
    answers with 400 and a closed connection."""


class HttpToolsWithHeadDeadline(HttpToolsProtocol):
    """httptools with a deadline, and a cap on the head's size: it has none of its own, and
    held 500 headers of a megabyte each (h11 has its own cap, h11_max_incomplete_event_size)."""

    head_seconds = HEAD_SECONDS
    _head_size = 0

    def on_message_begin(self) -> None:
        self._head_size = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value))
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self._head_size += size
        if self._head_size > HEAD_BYTES:
            raise HeadTooLargeError

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline = _Deadline(self.loop, transport)
        self._deadline.wait(self.head_seconds)

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadline.cancel()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._deadline.cancel()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        queued = len(self.pipeline)
        super().on_response_complete()
        if len(self.pipeline) == queued:  # no pipelined request started: await the next head
            self._deadline.wait(self.head_seconds)


def with_deadline(
    protocol: type[H11WithHeadDeadline] | type[HttpToolsWithHeadDeadline], seconds: float
) -> type[asyncio.Protocol]:
    """The protocol class with its own head deadline (tests use a short one)."""
    if seconds <= 0:
        raise ConfigError(f"a request head deadline must be positive seconds, not {seconds}")
    return type(protocol.__name__, (protocol,), {"head_seconds": seconds})
