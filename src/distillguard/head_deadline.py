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


class HttpToolsWithHeadDeadline(HttpToolsProtocol):
    """httptools with a deadline, and a cap on the head's size: it has none of its own (it
    gathers a header's value, however long, before it hands it over), and held 500
    headers of a megabyte each. Every byte received while a head is awaited is the head's,
    so they are counted as they come; past HEAD_BYTES the request is answered 400 and the
    connection closed, as h11's own cap (h11_max_incomplete_event_size) does."""

    head_seconds = HEAD_SECONDS
    _head_bytes: int | None = None  # received since the head was awaited; None: it came

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline = _Deadline(self.loop, transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadline.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # a head that completes in `data` stops the count first
        if self._head_bytes is None or self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes > HEAD_BYTES:
            self._deadline.cancel()
            self.send_400_response("Request head too large.")

    def on_headers_complete(self) -> None:
        self._deadline.cancel()
        self._head_bytes = None
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        queued = len(self.pipeline)
        super().on_response_complete()
        if len(self.pipeline) == queued:  # no pipelined request started: await the next head
            self._await_head()

    def _await_head(self) -> None:
        self._head_bytes = 0
        self._deadline.wait(self.head_seconds)


def with_deadline(
    protocol: type[H11WithHeadDeadline] | type[HttpToolsWithHeadDeadline], seconds: float
) -> type[asyncio.Protocol]:
    """The protocol class with its own head deadline (tests use a short one)."""
    if seconds <= 0:
        raise ConfigError(f"a request head deadline must be positive seconds, not {seconds}")
    return type(protocol.__name__, (protocol,), {"head_seconds": seconds})
