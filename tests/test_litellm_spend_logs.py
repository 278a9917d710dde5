"""LiteLLM_SpendLogs rows, as operators export them, become exchange-log rows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from distillguard.ingest.adapters import get_adapter
from distillguard.ingest.pipeline import ingest
from distillguard.schema import validate_exchange
from tests.samples import litellm_spend_log

HASH = litellm_spend_log()["api_key"]


def _converted(record: dict[str, Any]) -> dict[str, Any]:
    rows = list(get_adapter("litellm-spend-logs").convert(record))
    assert len(rows) == 1 and isinstance(rows[0], dict)
    validate_exchange(rows[0])  # a row the lake keeps
    return rows[0]


def _anthropic() -> dict[str, Any]:
    return {
        **litellm_spend_log(),
        "call_type": "anthropic_messages",
        "proxy_server_request": {
            "model": "claude-sonnet",
            "system": [{"type": "text", "text": "Think step by step."}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Prove it."}]}],
            "max_tokens": 4096,
            "thinking": {"type": "enabled", "budget_tokens": 2048},
        },
        "response": {
            "id": "msg_01",
            "type": "message",
            "content": [{"type": "thinking", "thinking": "..."}, {"type": "text", "text": "QED"}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 30, "output_tokens": 900},
        },
    }


# (name, the row, {field: what the exchange row holds})
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "stored prompt, OpenAI format",
        litellm_spend_log(),
        {
            "ts": datetime(2026, 2, 10, 13, 26, 40, 250000, tzinfo=UTC),
            "account_id": "user-7",  # end_user is empty: the key's user
            "api_key_id": HASH,
            "ip": "198.51.100.23",
            "model": "claude-sonnet",
            "system": "You are a coding assistant.",
            "output_text": "def merge(a, b): ...",
            "stop_reason": "end_turn",
            "input_tokens": 120,
            "output_tokens": 860,
            "latency_ms": 3500,
            "max_tokens": 2048,
            "status": 200,
        },
    ),
    (
        "no stored prompt, JSON as text, times without a zone",
        litellm_spend_log(minimal=True),
        {
            "ts": datetime(2026, 2, 10, 13, 30, tzinfo=UTC),
            "account_id": HASH,  # no user: the key
            "messages": [{"role": "user", "content": []}],
            "output_text": None,
            "latency_ms": 1500,
        },
    ),
    (
        "an end user named by the client comes first",
        {**litellm_spend_log(), "end_user": "customer-42"},
        {"account_id": "customer-42"},
    ),
    (
        "LiteLLM's placeholders are no account",
        {**litellm_spend_log(minimal=True), "user": "default_user_id"},
        {"account_id": HASH},
    ),
    (
        "a failure takes its status from the error, and has no token counts",
        {
            **litellm_spend_log(),
            "status": "failure",
            "metadata": {"error_information": {"error_code": "429"}},
        },
        {"status": 429, "input_tokens": None, "output_tokens": None},
    ),
    (
        "a list where an identity should be is none",
        {**litellm_spend_log(), "user": ["user-7"], "team_id": {"id": 1}},
        {"account_id": HASH},
    ),
    (
        "a boolean is no identity, a whole number is one",
        {**litellm_spend_log(), "end_user": False, "user": 1234},
        {"account_id": "1234"},
    ),
    (
        "an end before the start, or a duration not a number, is no latency",
        {**litellm_spend_log(), "request_duration_ms": float("nan"), "endTime": "2026-01-01"},
        {"latency_ms": None},
    ),
    (
        "Anthropic format",
        _anthropic(),
        {
            "system": "Think step by step.",
            "output_text": "QED",
            "thinking_budget": 2048,
            "input_tokens": 120,  # the row's own counts
            "stop_reason": "end_turn",
        },
    ),
]


@pytest.mark.parametrize(("name", "record", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_case_converts_as_documented(
    name: str, record: dict[str, Any], expected: dict[str, Any]
) -> None:
    row = _converted(record)
    assert {field: row.get(field) for field in expected} == expected, name


def test_the_key_s_team_is_the_account_s_organisation() -> None:
    adapter = get_adapter("litellm-spend-logs")
    assert adapter.account(litellm_spend_log()) == {"account_id": "user-7", "org_id": "team-alpha"}
    assert adapter.account(litellm_spend_log(minimal=True)) is None


def test_an_odd_organisation_is_the_row_s_problem_not_the_run_s(tmp_path: Path) -> None:
    """A list in organization_id failed in the accounts the row declares, outside the
    row's own guard: a traceback, and nothing of the file ingested."""
    odd = {**litellm_spend_log(), "organization_id": ["org-1"], "request_id": "odd"}
    log = tmp_path / "spend_logs.jsonl"
    log.write_bytes(orjson.dumps(odd) + b"\n" + orjson.dumps(litellm_spend_log()) + b"\n")
    summary = ingest([log], tmp_path / "lake")
    assert summary.kept + summary.quarantined == 2 and summary.kept >= 1


def test_an_exported_table_is_ingested_as_spend_logs(tmp_path: Path) -> None:
    """`--format auto` knows the table's rows; each is kept once."""
    rows = [litellm_spend_log(), litellm_spend_log(minimal=True), _anthropic()]
    rows[2]["request_id"] = "msg-row"
    log = tmp_path / "spend_logs.jsonl"
    log.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    summary = ingest([log], tmp_path / "lake")
    assert (summary.kept, summary.quarantined) == (3, 0)
    parts = str(tmp_path / "lake" / "exchanges" / "**" / "*.parquet")
    kept = duckdb.connect().sql(f"SELECT account_id FROM read_parquet('{parts}') ORDER BY 1")
    assert kept is not None
    assert [a for (a,) in kept.fetchall()] == [HASH, "user-7", "user-7"]


REAL = Path(__file__).parent / "fixtures" / "real" / "litellm-spend-logs.jsonl"


def _real_rows() -> list[dict[str, Any]]:
    """Spend-log rows LiteLLM's own code built for its database (scripts/capture_fixtures.py
    --spend-logs: a real proxy storing prompts, a fake model API behind it; the database
    itself is not run here, so the rows are what it would be sent: JSON columns as text)."""
    return [_converted(orjson.loads(line)) for line in REAL.read_bytes().splitlines()]


def test_real_spend_logs_keep_their_people_apart() -> None:
    """Master key: end users named by the client, and one request naming none (the master
    key's own account); virtual keys: each key's user, a team's service key with no user
    (once on behalf of an end customer)."""
    records = [orjson.loads(line) for line in REAL.read_bytes().splitlines()]
    service_key = next(r["api_key"] for r in records if r["api_key"].startswith("8a7d3e70"))
    people = {f"{name}@example.com" for name in ("alice", "bob", "carol", "dave")}
    assert {row["account_id"] for row in _real_rows()} == people | {
        "litellm_proxy_master_key",
        "alice",
        "bob",
        "carol",
        service_key,
        "customer-77",
    }


def test_real_spend_logs_carry_the_stored_text_and_client() -> None:
    rows = _real_rows()
    assert all(row["messages"] and row["messages"][0]["content"] for row in rows)
    assert any(row["system"] == "You are a terse assistant for Acme support." for row in rows)
    assert all(row["output_text"] or row["stop_reason"] == "tool_use" for row in rows)
    assert {row["user_agent"] for row in rows} == {"OpenAI/Python 2.54.0"}
    assert all(row["ts"].tzinfo is not None and row["status"] == 200 for row in rows)


def test_a_reason_names_a_field_inside_a_json_text_column(tmp_path: Path) -> None:
    """Exports keep JSON columns as text: the reason looked the path up undecoded and
    said no path held a value."""
    row = {**litellm_spend_log(), "request_id": "odd-ip"}
    del row["requester_ip_address"]
    row["metadata"] = orjson.dumps({**row["metadata"], "requester_ip_address": 5}).decode()
    log = tmp_path / "spend_logs.jsonl"
    log.write_bytes(orjson.dumps(row) + b"\n")
    assert ingest([log], tmp_path / "lake").quarantined == 1
    quarantined = (tmp_path / "lake" / "quarantine.jsonl").read_bytes().splitlines()
    [entry] = [orjson.loads(line) for line in quarantined]
    assert str(entry["reason"]).endswith("(in this log: `metadata.requester_ip_address`)")
