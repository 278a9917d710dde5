"""A connection closed in stages, as HTTP/1.1 asks (RFC 9112, section 9.6).

A server that closes a socket while bytes it has not read wait in it makes the kernel send
a reset, not an end of stream. The client then reads "connection reset" where our last
answer was: a 401 or 408 sent before a body was read whole (body_deadline closes such
connections on purpose), while the client still uploads. Here a close first ends our side
only (the answer, then an end of stream), goes on reading and dropping what the client
still sends, and closes for good when the client closes too or after LINGER_SECONDS, as
Apache's and nginx's lingering close do. Reads go on while lingering even where flow
control had paused them; writes are dropped, as a closed transport drops them.

Where a transport cannot end one side only (TLS), and when the server shuts down, the
close is immediate.
"""

from __future__ import annotations

import asyncio
from typing import Any

LINGER_SECONDS = 2.0  # a client's bytes in flight land within it; a slow sender is not waited for


class LingeringTransport(asyncio.Transport):
    """A transport whose `close` lingers; every other call goes to the transport inside."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport, self._loop = transport, loop
        self._timer: asyncio.TimerHandle | None = None
        self.lingering = False
        self.linger = True  # False once the server stops (stop_lingering)

    def close(self) -> None:
        if self.lingering or not self.linger or not self._can_linger():
            self._close_now()
            return
        self.lingering = True
        self._transport.write_eof()  # sent after whatever is still buffered
        self._transport.resume_reading()  # drain what flow control held back
        self._timer = self._loop.call_later(LINGER_SECONDS, self._close_now)

    def stop_lingering(self) -> None:
        """The server is stopping: close now if lingering, and at once from now on."""
        self.linger = False
        if self.lingering:
            self._close_now()

    def forget(self) -> None:
        """The connection is gone: no close is due."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _can_linger(self) -> bool:
        return not self._transport.is_closing() and self._transport.can_write_eof()

    def _close_now(self) -> None:
        self.forget()
        self._transport.close()

    def is_closing(self) -> bool:
        return self.lingering or self._transport.is_closing()

    def abort(self) -> None:
        self.forget()
        self._transport.abort()

    def write(self, data: bytes | bytearray | memoryview[Any]) -> None:
        if not self.lingering:
            self._transport.write(data)

    def pause_reading(self) -> None:
        if not self.lingering:
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)
