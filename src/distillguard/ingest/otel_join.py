"""OpenTelemetry logs files given with spans files: their message content joins the spans.

Under the v1.30 GenAI conventions a span carries the metadata and its log records (events)
carry the messages. Ingest sets the logs files aside, gathers their content by trace and
span id into one file in the run's staging directory, and the span adapter in each worker
reads it from there. A logs file without any spans file is a user error: there is nothing
to join it to, and its records are not exchanges.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from distillguard.errors import UserError
from distillguard.ingest.adapters.otel_genai import OtelGenAIAdapter
from distillguard.ingest.adapters.otel_logs import Content, content_by_span, is_otel_logs
from distillguard.ingest.sources import PARQUET_SUFFIXES, RawRecord, first_line, iter_records

CONTENT_FILE = "otel-content.json"


def _first_value(path: Path) -> Any:
    """The first record of a JSON Lines file, read from its first line alone (OTLP/JSON
    files are never Parquet, and a large gzip file is not decompressed twice)."""
    if path.name.lower().endswith(PARQUET_SUFFIXES):
        return None
    try:
        return orjson.loads(first_line(path))
    except orjson.JSONDecodeError:
        return None


def split_otel_logs(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """(files to ingest, OTel logs files); a logs file with no spans file is an error."""
    rest, logs, has_spans = _sorted_out(files)
    if logs and not has_spans:
        raise UserError(
            f"{logs[0]} holds OpenTelemetry logs (events), not spans: give it together with"
            " the spans file of the same run, and ingest joins them by trace and span id"
        )
    return rest, logs


def logs_without_spans(files: list[Path]) -> list[Path]:
    """The OTel logs files among `files` when no spans file is with them to join: what
    ingest would refuse (watch holds them until a tick brings spans)."""
    _, logs, has_spans = _sorted_out(files)
    return [] if has_spans else logs


def _sorted_out(files: list[Path]) -> tuple[list[Path], list[Path], bool]:
    """(the files that are not OTel logs, the OTel logs files, whether a spans file is
    among the first)."""
    firsts = {path: _first_value(path) for path in files}
    logs = [path for path in files if is_otel_logs(firsts[path])]
    rest = [path for path in files if path not in logs]
    has_spans = any(OtelGenAIAdapter().matches(firsts[path]) for path in rest)
    return rest, logs, has_spans


def _values(files: list[Path], bad: list[RawRecord]) -> Iterator[Any]:
    for path in files:
        for record in iter_records(path):
            if record.error is None:
                yield record.value
            else:
                bad.append(record)


def write_content(logs: list[Path], directory: Path) -> tuple[Path, list[RawRecord]]:
    """Gather the logs files' message content by span into one file in `directory`;
    returns it and the lines that were not JSON (for the quarantine)."""
    path = directory / CONTENT_FILE
    bad: list[RawRecord] = []
    path.write_bytes(orjson.dumps(content_by_span(_values(logs, bad))))
    return path, bad


@lru_cache(maxsize=1)
def read_content(path: Path) -> dict[str, Content]:
    """The gathered content, read once per worker process."""
    content: dict[str, Content] = orjson.loads(path.read_bytes())
    return content
