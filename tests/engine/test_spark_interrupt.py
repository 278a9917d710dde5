"""Ctrl-C during a Spark job ends in one line, as it does with DuckDB (a real JVM, local
mode). PySpark's own SIGINT handler called the JVM from inside the signal handler, which
re-entered py4j mid-read, and py4j, pyspark's workers and the JVM printed some 300 lines
of tracebacks around "distillguard: interrupted"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.detect.conftest import tiny_lake, tiny_sim

__all__ = ["tiny_lake", "tiny_sim"]

NOISE = ("Traceback", "ERROR:root", "Python worker exited", "reentrant call")


def _writing(folder: Path) -> bool:
    """Whether a Spark job is writing under `folder` (its committer's scratch is there)."""
    return any(folder.rglob("_temporary"))


def test_ctrl_c_in_a_spark_job_is_one_line(tiny_lake: Path, tmp_path: Path) -> None:
    argv = ["detect", str(tiny_lake), "--out", str(tmp_path / "d"), "--engine", "spark"]
    job = subprocess.Popen(
        [sys.executable, "-m", "distillguard.cli.main", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # a process group of its own, as a terminal's job is
    )
    deadline = time.monotonic() + 180
    while not _writing(tmp_path):
        assert job.poll() is None and time.monotonic() < deadline, "no Spark job was seen"
        time.sleep(0.02)
    os.killpg(job.pid, signal.SIGINT)  # what Ctrl-C does: every process of the job
    _, err = job.communicate(timeout=180)
    text = err.decode()
    assert job.returncode == 130, text[-2000:]
    assert text.rstrip().endswith("distillguard: interrupted")
    assert not [noise for noise in NOISE if noise in text], text[-3000:]
