"""Ctrl-C (and SIGTERM) stop a running DuckDB query every time, not most times.

DuckDB's Python client stops a query when, between its tasks, it finds that Python's
signal handler has run. Some queries miss it: a count over range(100e9), interrupted half
a second in, ran on to its end (400 s) in 3 runs of 16 here, and a stopped run's
SystemExit (see workers.terminate_on_sigterm) waits the same way. Python's C-level handler
also writes each signal's number to the wakeup file descriptor at once, whatever the main
thread is doing: a thread reading it here calls `interrupt()` once on every connection
that `store.duck.connect_utc` opened (20 runs of 20 stopped within 2.5 s; interrupting
again over a second, as first written, also stopped short queries run after the signal,
cleanup among them). The query then raises DuckDB's own interrupt error, which the CLI
turns into the signal's exit status (`stopped_by`: 130 for SIGINT, 143 for SIGTERM).
Cursors (`con.cursor()`, the console's) are connections of their own and not tracked:
the servers' event loop takes the signals while they serve.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

_live: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
_received: list[int] = []  # the stop signals the watcher saw, in order


def stopped_by() -> int | None:
    """The first stop signal the watcher saw, if any (a query interrupted for it raises
    DuckDB's error, not the signal's own KeyboardInterrupt or SystemExit)."""
    return _received[0] if _received else None


def track(con: duckdb.DuckDBPyConnection) -> None:
    """Interrupt `con`'s queries when the process is told to stop."""
    _live.add(con)


def interrupt_all() -> None:
    """interrupt() every tracked connection (one closed meanwhile is skipped)."""
    for con in list(_live):
        with contextlib.suppress(duckdb.Error):  # closed: nothing runs on it
            con.interrupt()


@contextmanager
def interrupting_queries(
    signals: frozenset[int] = frozenset({signal.SIGINT, signal.SIGTERM}),
) -> Iterator[None]:
    """While in the block, `signals` interrupt the tracked connections' queries as well
    as running Python's handlers. Only the main thread receives signals: elsewhere this
    does nothing. The previous wakeup descriptor is put back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reader, writer = socket.socketpair()
    writer.setblocking(False)  # Python's handler must never block on it
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    _received.clear()
    watcher = threading.Thread(
        target=_watch, args=(reader, signals), name="query-interrupts", daemon=True
    )
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        writer.shutdown(socket.SHUT_WR)  # the watcher reads the end and leaves (never blocks)
        watcher.join()
        reader.close()
        writer.close()


def _watch(reader: socket.socket, signals: frozenset[int]) -> None:
    while data := reader.recv(64):
        stops = [number for number in data if number in signals]
        if stops:
            _received.extend(stops)
            interrupt_all()
