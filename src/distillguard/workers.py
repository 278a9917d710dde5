"""Worker processes that never outlive the run that started them.

Each worker asks the kernel to kill it when its parent dies (Linux PR_SET_PDEATHSIG; the
parent of a forkserver worker is the fork server, which exits when the main process
does), and also watches the main process itself, which covers other systems and a main
process killed before the fork server noticed. On an exception or a signal in the main
process the pool is shut down without waiting for queued work and its workers are killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

_PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5


def _set_parent_death_signal() -> None:
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(main_pid: int) -> None:
    while _alive(main_pid):
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def die_with_parent(main_pid: int) -> None:
    """Worker initializer: end this process as soon as the main process is gone."""
    _set_parent_death_signal()
    if not _alive(main_pid):
        os._exit(1)
    threading.Thread(target=_watch, args=(main_pid,), daemon=True, name="parent-watch").start()


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and kill the workers, and wait until they are gone: a worker
    still running would write into a staging folder the caller is about to remove."""
    # The pool has no public way to stop running work before Python 3.14, and shutdown()
    # forgets its processes, so they are taken first.
    processes = list(dict(getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.kill()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=10)


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool whose workers die with the main process and on any failure in it."""
    pool = ProcessPoolExecutor(
        workers,
        mp_context=get_context("forkserver"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        yield pool
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """While in the block, SIGTERM raises SystemExit, so that a stopped run unwinds: pools
    are shut down, workers killed, staged files removed (the default action would skip all
    of that). The previous handler is put back after."""

    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
