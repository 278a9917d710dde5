"""Ctrl-C during a Spark job: one line ("distillguard: interrupted"), not pages of py4j.

PySpark's SparkContext installs a SIGINT handler that calls the JVM (to cancel the jobs)
from inside the signal handler. When the signal lands while the driver waits on the JVM,
that call re-enters py4j's connection mid-read ("reentrant call inside
<_io.BufferedReader>"), and py4j logs each failure, and the KeyboardInterrupt itself, with
its traceback on the root logger. Python's own handler raises KeyboardInterrupt where the
driver waits instead; the session is then stopped (see SparkEngine.close), which cancels
the jobs, and py4j's records are held back while a session of ours runs.
"""

from __future__ import annotations

import logging
import signal
import threading


class _NotPy4J(logging.Filter):
    """Drops the records py4j logs on the root logger (its interrupted or failed calls);
    the engine turns a failed call into one line of its own (spark_errors)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "py4j" not in record.pathname


_FILTER = _NotPy4J()
# py4j's own loggers (py4j.clientserver, py4j.java_gateway) log the same failures, such as
# a connection it shuts down after the interrupt: silenced while the session runs.
_PY4J = logging.getLogger("py4j")
_SILENT = logging.CRITICAL + 1
_levels: list[int] = []


def quiet_interrupts() -> None:
    """Python's own SIGINT handler (from the main thread; signals are only set there), and
    py4j's tracebacks held back, while a session this process started runs. PySpark's
    handler is not put back at the stop: it would cancel the jobs of a session gone."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    logging.getLogger().addFilter(_FILTER)
    _levels.append(_PY4J.level)
    _PY4J.setLevel(_SILENT)


def loud_again() -> None:
    """py4j's records shown again: the session is stopped."""
    logging.getLogger().removeFilter(_FILTER)
    if _levels:
        _PY4J.setLevel(_levels.pop())
