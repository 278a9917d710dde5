"""Ctrl-C (and SIGTERM) stop a running DuckDB query every time, not most times.

DuckDB's Python client stops a query when, between its tasks, it finds that Python's
signal handler has run. Some queries miss it: a count over range(100e9), interrupted half
a second in, ran on to its end (400 s) in 3 runs of 16 here, and a stopped run's
SystemExit (see workers.terminate_on_sigterm) waits the same way. Python's C-level handler
also writes each signal's number to the wakeup file descriptor at once, whatever the main
thread is doing: a thread reading it here calls `interrupt()` on every connection that
`store.duck.connect_utc` opened, a few times over a second, since an interrupt that lands
before a query's executor starts is forgotten by it. With it, 20 runs of 20 stopped
within a second. The query then raises DuckDB's own interrupt error, which the CLI
reports as an interruption (exit 130).
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

STOP = b"\0"  # no signal has number 0: the watcher's own "leave"
REPEATS = 10  # interrupts per signal, INTERVAL apart
INTERVAL = 0.1

_live: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()


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
    left = threading.Event()
    watcher = threading.Thread(
        target=_watch, args=(reader, signals, left), name="query-interrupts", daemon=True
    )
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        left.set()
        writer.send(STOP)
        watcher.join()
        reader.close()
        writer.close()


def _watch(reader: socket.socket, signals: frozenset[int], left: threading.Event) -> None:
    while data := reader.recv(64):
        if STOP in data:
            return
        if any(number in signals for number in data):
            for _ in range(REPEATS):
                interrupt_all()
                if left.wait(INTERVAL):
                    break
