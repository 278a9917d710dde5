"""A stop signal reaches a running DuckDB query through the wakeup descriptor, even when
DuckDB's own check of Python's signal handler does not stop it (store/interrupts.py)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from distillguard.cli.main import main
from distillguard.store import interrupts
from distillguard.store.duck import connect_utc

LONG_QUERY = "SELECT count(*) FROM range(2_000_000_000) t(a) WHERE a % 7 = 3"  # about 8 s
MEDIUM_QUERY = "SELECT count(*) FROM range(150_000_000) t(a) WHERE a % 7 = 3"


@contextmanager
def _does_nothing(number: int) -> Iterator[None]:
    """The signal runs a Python handler that raises nothing: DuckDB's check finds no error
    and its query runs on, as it does when it misses the signal. Only the watcher can stop
    it."""
    previous = signal.signal(number, lambda _number, _frame: None)
    try:
        yield
    finally:
        signal.signal(number, previous)


@pytest.mark.parametrize(
    ("number", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"]
)
def test_a_query_duckdb_would_run_to_its_end_stops_at_the_signal(
    monkeypatch: pytest.MonkeyPatch, number: int, status: int
) -> None:
    """Without the watcher this command runs its query to the end (about 8 s) and exits 0.
    SIGTERM's status must come from the watcher too: the query's interrupt error took the
    place of terminate_on_sigterm's SystemExit(143) and was reported as 130 (2 runs of 42)."""
    monkeypatch.setattr(
        "distillguard.cli.main.terminate_on_sigterm", lambda: _does_nothing(signal.SIGTERM)
    )

    def counted(args: object) -> int:
        con = connect_utc()
        threading.Timer(0.5, os.kill, (os.getpid(), number)).start()
        con.sql(LONG_QUERY).fetchall()
        return 0

    monkeypatch.setattr("distillguard.cli.main.run_command", counted)
    began = time.monotonic()
    with _does_nothing(signal.SIGINT):
        assert main(["lake", "."]) == status
    assert time.monotonic() - began < 4


def test_a_query_run_after_the_signal_is_left_alone() -> None:
    """The signal interrupts what runs when it comes, once: interrupting again over a
    second stopped queries run after it, a run's cleanup among them."""
    con = connect_utc()
    with _does_nothing(signal.SIGINT), interrupts.interrupting_queries():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)  # the watcher has interrupted the idle connection
        assert interrupts.stopped_by() == signal.SIGINT
        assert con.sql(MEDIUM_QUERY).fetchall()[0][0] > 0  # about half a second


def _wakeup_fd() -> int:
    current = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(current)
    return current


def test_leaving_puts_the_wakeup_descriptor_back_and_ends_the_watcher() -> None:
    before = _wakeup_fd()
    with interrupts.interrupting_queries():
        assert _wakeup_fd() != before
        assert "query-interrupts" in {thread.name for thread in threading.enumerate()}
    assert _wakeup_fd() == before
    assert "query-interrupts" not in {thread.name for thread in threading.enumerate()}


def test_off_the_main_thread_nothing_is_installed() -> None:
    seen: list[int] = []

    def inside() -> None:
        with interrupts.interrupting_queries():
            seen.append(threading.active_count())

    before = threading.active_count()
    thread = threading.Thread(target=inside)
    thread.start()
    thread.join()
    assert seen == [before + 1]  # the thread itself, no watcher


def test_a_closed_connection_is_skipped() -> None:
    closed, open_ = connect_utc(), connect_utc()
    closed.close()
    interrupts.interrupt_all()  # no error from the closed one
    assert open_.sql("SELECT 42").fetchall() == [(42,)]  # an idle one is not harmed
