"""What went wrong in Spark, in one line: the JVM's root cause, not py4j's wrapper.

A failed Spark call raises with "An error occurred while calling o43.parquet." on its
first line and the Java stack below, whose last "Caused by:" names the real reason (no
filesystem for the scheme, a file that is not Parquet, a bad setting).
"""

from __future__ import annotations

import os
import shutil

MAX_CHARS = 300  # one line on a terminal, give or take: the rest is in Spark's own log
# What Spark and Parquet say of a file they cannot read (damaged, or not Parquet).
_READ_FAILURES = (
    "FAILED_READ_FILE",
    "ParquetDecodingException",
    "is not a Parquet file",
    "decompression",
    "Can not read value at",
    "CANNOT_READ_FILE_FOOTER",
)


def spark_reason(exc: BaseException) -> str:
    """The root cause a Spark failure reports, else its first line, else its class."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    causes = [line.removeprefix("Caused by: ") for line in lines if line.startswith("Caused by:")]
    thrown = [line.removeprefix(": ") for line in lines if line.startswith(": ")]
    if causes:
        reason = causes[-1]  # the innermost: the one that started it
    elif thrown:
        reason = thrown[0]  # the Java exception py4j's first line only points to
    else:
        reason = lines[0] if lines else type(exc).__name__
    return reason if len(reason) <= MAX_CHARS else reason[: MAX_CHARS - 3] + "..."


def start_failure(exc: BaseException) -> str:
    """Why a Spark session did not start, with where to look when the reason is elsewhere."""
    reason = spark_reason(exc)
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return (
            f"Spark did not start ({reason}); it needs Java 17 (none on the PATH or in JAVA_HOME)"
        )
    if "JAVA_GATEWAY_EXITED" in reason:  # spark-submit printed its reason above, and quit
        return f"Spark did not start ({reason}): spark-submit's lines above say why"
    return f"Spark did not start: {reason}"


def is_read_failure(text: str) -> bool:
    """Whether a failed job's text says a file could not be read (a user's damaged lake,
    not a fault of ours)."""
    return any(marker in text for marker in _READ_FAILURES)
