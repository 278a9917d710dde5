"""Spark's failures in one line: the JVM's root cause, not py4j's wrapper (no JVM here:
the texts are shaped as py4j and pyspark write them)."""

from __future__ import annotations

import pytest

from distillguard.engine.spark_errors import (
    MAX_CHARS,
    is_read_failure,
    spark_reason,
    start_failure,
)

CALLED = "An error occurred while calling o43.parquet.\n"
# (case, the exception's text, the reason said)
REASONS = [
    (
        "the root cause of a chain",
        CALLED + ": org.apache.spark.SparkException: Job aborted.\n\tat org.apache.Foo(x)\n"
        "Caused by: org.apache.spark.SparkException: [FAILED_READ_FILE] x\n\tat y\n"
        "Caused by: java.lang.RuntimeException: lake/NOTES.txt is not a Parquet file.\n\tat z",
        "java.lang.RuntimeException: lake/NOTES.txt is not a Parquet file.",
    ),
    (
        "the thrown exception when nothing caused it",
        CALLED + ": org.apache.hadoop.fs.UnsupportedFileSystemException: No FileSystem for "
        'scheme "s3"\n\tat org.apache.hadoop.fs.FileSystem(x)',
        'org.apache.hadoop.fs.UnsupportedFileSystemException: No FileSystem for scheme "s3"',
    ),
    (
        "pyspark's own error",
        "[PATH_NOT_FOUND] Path does not exist: file:/tmp/lake/exchanges.",
        "[PATH_NOT_FOUND] Path does not exist: file:/tmp/lake/exchanges.",
    ),
    ("no text at all", "", "RuntimeError"),
]


@pytest.mark.parametrize(("case", "text", "reason"), REASONS, ids=[r[0] for r in REASONS])
def test_the_reason_is_the_root_cause(case: str, text: str, reason: str) -> None:
    assert spark_reason(RuntimeError(text)) == reason, case


def test_a_long_reason_is_cut() -> None:
    said = spark_reason(RuntimeError("x" * 1000))
    assert len(said) == MAX_CHARS and said.endswith("...")


def test_a_start_failure_blames_java_only_when_there_is_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    error = RuntimeError(
        CALLED + ": java.lang.IllegalArgumentException: Asked to run locally with 0 threads"
    )
    said = start_failure(error)
    assert said == (
        "Spark did not start: java.lang.IllegalArgumentException: "
        "Asked to run locally with 0 threads"
    )
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    assert "it needs Java 17 (none on the PATH" in start_failure(error)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        (CALLED + ": org.apache.spark.SparkException: [FAILED_READ_FILE.NO_HINT] x.parquet", True),
        ("Caused by: org.apache.parquet.io.ParquetDecodingException: Can not read value", True),
        (CALLED + ": org.apache.spark.api.python.PythonException: ZeroDivisionError", False),
    ],
)
def test_only_a_file_that_cannot_be_read_is_the_users(text: str, read: bool) -> None:
    """A damaged lake is one line; a failure in our own job stays a traceback."""
    assert is_read_failure(text) is read
