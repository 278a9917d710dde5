"""The OpenTelemetry adapter on what opentelemetry-instrumentation-openai-v2 really wrote
(tests/fixtures/real, captured by scripts/capture_fixtures.sh with the OTLP JSON file
exporter): the latest experimental conventions, content on the span; and v1.30, content
in a separate logs file that ingest joins to the spans by trace and span id."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from distillguard.cli.main import main
from distillguard.errors import UserError
from distillguard.ingest import Lake, ingest
from distillguard.ingest.adapters import get_adapter
from distillguard.schema import validate_exchange
from distillguard.verdicts.policy import load_policy
from distillguard.verdicts.store import open_store
from distillguard.verdicts.watch import HOLD_TICKS, Watcher
from tests.conftest import query

REAL = Path(__file__).parent / "fixtures" / "real"
LATEST = REAL / "otel-latest-spans.jsonl"
V130_SPANS = REAL / "otel-v1.30-spans.jsonl"
V130_LOGS = REAL / "otel-v1.30-logs.jsonl"
SYSTEM = "You are a terse assistant for Acme support."


def rows(path: Path) -> list[Any]:
    adapter = get_adapter("otel-genai")
    records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    return [validate_exchange(r) for record in records for r in adapter.convert(record)]


def test_system_message_is_the_system_prompt() -> None:
    first = rows(LATEST)[0]
    assert first.system == SYSTEM
    assert [m.role for m in first.messages] == ["user"]


@pytest.mark.parametrize("path", [LATEST, V130_SPANS], ids=["latest", "v1.30"])
def test_openai_tool_calls_finish_reason_is_tool_use(path: Path) -> None:
    reasons = [r.stop_reason for r in rows(path)]
    assert "tool_use" in reasons and "tool_calls" not in reasons


def test_streamed_span_takes_finish_reason_from_output_messages() -> None:
    streamed = [r for r in rows(LATEST) if r.temperature == 0.3]  # the streamed request
    assert [r.stop_reason for r in streamed] == ["end_turn"]


def test_failed_call_keeps_its_http_status() -> None:
    assert [r.status for r in rows(LATEST)] == [200, 200, 200, 200, 500]


def _lake_rows(lake: Path) -> list[tuple[Any, ...]]:
    return query(
        "SELECT system, len(messages), output_text, stop_reason, status"
        f" FROM {Lake(lake).exchanges_sql()} ORDER BY ts"
    )


def test_v130_spans_and_logs_are_joined(tmp_path: Path) -> None:
    summary = ingest([V130_SPANS, V130_LOGS], tmp_path / "lake")
    assert (summary.files, summary.kept, summary.quarantined, summary.otel_logs) == (2, 5, 0, 1)
    assert "message content from 1 OTel logs file(s)" in summary.line()
    got = _lake_rows(tmp_path / "lake")
    assert got[0] == (SYSTEM, 1, "Answer to: What is OpenTelemetry?", "end_turn", 200)
    assert got[1][3] == "end_turn", "a streamed span's finish reason comes from gen_ai.choice"
    assert got[3][1:4] == (3, "Answer to: Weather in Paris?", "end_turn")
    assert got[4] == (SYSTEM, 1, None, None, 500)


def test_both_generations_give_the_same_exchanges(tmp_path: Path) -> None:
    ingest([LATEST], tmp_path / "latest")
    ingest([V130_SPANS, V130_LOGS], tmp_path / "v130")
    assert _lake_rows(tmp_path / "latest") == _lake_rows(tmp_path / "v130")


def test_logs_file_alone_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UserError, match="OpenTelemetry logs"):
        ingest([V130_LOGS], tmp_path / "lake")
    assert main(["ingest", str(V130_LOGS), "--out", str(tmp_path / "lake")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not spans" in err
    assert not Lake(tmp_path / "lake").quarantine_path.exists()
    # nothing made: a lock left there made the folder a lake, empty, that ingest DIR skipped
    assert not (tmp_path / "lake").exists()


def test_directory_reads_only_supported_kinds(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for path in (V130_SPANS, V130_LOGS):
        shutil.copy(path, logs / path.name)
    (logs / "run-config.json").write_text('{\n  "service": "support-bot",\n  "debug": true\n}\n')
    (logs / "README.txt").write_text("captured on the staging cluster\n")
    summary = ingest([logs], tmp_path / "lake")
    assert (summary.files, summary.kept, summary.quarantined) == (2, 5, 0)
    assert summary.skipped == (
        f"{logs / 'README.txt'} (not .jsonl, .jsonl.gz or .parquet)",
        f"{logs / 'run-config.json'} (a JSON document, not JSON Lines)",
    )
    line = summary.line()
    assert "not read as exchanges: 2 file(s): " in line and "run-config.json" in line


def test_a_given_json_document_is_one_clear_error(tmp_path: Path) -> None:
    document = tmp_path / "export.json"
    document.write_text('[\n  {"request_id": "r1"}\n]\n')
    with pytest.raises(UserError, match="JSON document, not JSON Lines"):
        ingest([document], tmp_path / "lake")


def test_a_broken_line_in_a_logs_file_is_quarantined(tmp_path: Path) -> None:
    logs = tmp_path / "logs.jsonl"
    logs.write_bytes(V130_LOGS.read_bytes() + b'{"resourceLogs": [\n')
    summary = ingest([V130_SPANS, logs], tmp_path / "lake")
    assert (summary.kept, summary.quarantined) == (5, 1)
    [bad] = Lake(tmp_path / "lake").quarantine_path.read_bytes().splitlines()
    assert orjson.loads(bad)["line"] == len(V130_LOGS.read_bytes().splitlines()) + 1


def test_watch_holds_a_logs_file_until_its_spans_come(tmp_path: Path) -> None:
    """An exporter flushes logs and spans on their own schedules: a watch tick that found
    the logs file alone stopped watch with ingest's error, and its content was never
    joined. The logs wait, unremembered, for the tick that brings the spans."""
    inbox, lake = tmp_path / "inbox", tmp_path / "lake"
    inbox.mkdir()
    shutil.copy(V130_LOGS, inbox / "logs.jsonl")
    watcher = Watcher(lake, inbox, open_store("memory"), load_policy())
    assert watcher.tick() is None and watcher.waiting == 1
    shutil.copy(V130_SPANS, inbox / "traces.jsonl")
    summary = watcher.tick()
    assert summary is not None and (summary.files, summary.kept) == (2, 5)
    assert watcher.waiting == 0
    assert _lake_rows(lake)[0] == (SYSTEM, 1, "Answer to: What is OpenTelemetry?", "end_turn", 200)
    with (inbox / "logs.jsonl").open("ab") as grown:  # the logs file alone grows again
        grown.write(V130_LOGS.read_bytes())
    for _ in range(HOLD_TICKS):  # one process a tick, as from cron: the count is kept
        watcher = Watcher(lake, inbox, open_store("memory"), load_policy())
        assert watcher.tick() is None and (watcher.waiting, watcher.set_aside) == (1, [])
    # its spans were read before it: it waits no longer, said and remembered (the review)
    assert watcher.tick() is None and watcher.waiting == 0
    assert watcher.set_aside == [str(inbox / "logs.jsonl")]
    assert watcher.tick() is None and (watcher.waiting, watcher.set_aside) == (0, [])
