"""LiteLLM proxy's spend logs: rows of its LiteLLM_SpendLogs table, as an operator exports them.

A LiteLLM proxy with a database writes one row per call to LiteLLM_SpendLogs, which is
what most of its operators keep (psql's COPY of row_to_json, DuckDB's postgres scanner,
the /spend/logs API). Columns read: request_id, call_type, startTime and endTime (UTC: a
timestamp without a zone, as Postgres exports LiteLLM's, is taken as UTC),
request_duration_ms, model_group (else model), api_key (the key's hash), user, team_id,
organization_id, end_user, requester_ip_address, status, prompt_tokens,
completion_tokens and metadata (error_information, user_api_key_alias). The text is there
only when the proxy runs with store_prompts_in_spend_logs: proxy_server_request (the
request body, OpenAI or Anthropic format, with the client's headers: its user agent) and
response. Without it a row keeps its
identities, timing and tokens and one empty user turn, and detection rests on those. A
JSON column may come as an object or as JSON text (a CSV or text export).

The account is the finest real identity, as for LiteLLM's logging payload (litellm.py):
the end user, then the key's user, then the key, LiteLLM's placeholders skipped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from distillguard.ingest.adapters.anthropic_messages import (
    anthropic_request_fields,
    anthropic_response_fields,
)
from distillguard.ingest.adapters.base import FieldMapping, epoch_or_text_timestamp
from distillguard.ingest.adapters.litellm import LiteLLMAdapter, failure_status
from distillguard.ingest.adapters.openai_chat import (
    openai_request_fields,
    openai_response_fields,
    split_openai_messages,
)
from distillguard.schema.validate import Row

SPEND_LOG_MAPPING = FieldMapping(
    {
        "request_id": ("request_id",),
        "ts": ("startTime",),
        "account_id": ("end_user", "user", "api_key"),
        "api_key_id": ("api_key", "metadata.user_api_key_alias"),
        "access_path": (),
        "ip": ("requester_ip_address", "metadata.requester_ip_address"),
        "asn": (),
        "country": (),
        "user_agent": ("proxy_server_request.metadata.headers.user-agent",),
        "model": ("model_group", "model"),
        "org_id": (
            "organization_id",
            "team_id",
            "metadata.user_api_key_org_id",
            "metadata.user_api_key_team_id",
        ),
    }
)
_KEYS = ("request_id", "call_type", "startTime", "spend")
_JSON_COLUMNS = ("metadata", "proxy_server_request", "response", "messages")
_ROW_FIELDS = ("request_id", "api_key_id", "access_path", "ip", "asn", "country", "user_agent")


def decoded(record: Mapping[str, Any]) -> dict[str, Any]:
    """The row with its JSON columns as values: a text export writes them as JSON text."""
    row = dict(record)
    for name in _JSON_COLUMNS:
        value = row.get(name)
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                row[name] = orjson.loads(value)
            except orjson.JSONDecodeError:
                row[name] = None
    return row


def utc_time(value: Any) -> Any:
    """Epoch numbers and ISO text as UTC datetimes; a time without a zone is UTC (LiteLLM
    writes UTC into a column without one). Other text passes on, for the validator."""
    value = epoch_or_text_timestamp(value)
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _latency_ms(row: Mapping[str, Any]) -> int | None:
    """request_duration_ms, else end minus start; None where neither is a duration."""
    duration = row.get("request_duration_ms")
    if not isinstance(duration, int | float) or isinstance(duration, bool):
        start, end = utc_time(row.get("startTime")), utc_time(row.get("endTime"))
        both = isinstance(start, datetime) and isinstance(end, datetime)
        duration = (end - start).total_seconds() * 1000 if both else None
    if duration is None or not math.isfinite(duration) or duration < 0:
        return None
    return round(duration)


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _content(row: Mapping[str, Any]) -> Row:
    """What the stored request and response say, in the format they were sent in."""
    request, response = _object(row.get("proxy_server_request")), _object(row.get("response"))
    anthropic = "anthropic" in str(row.get("call_type")) or response.get("type") == "message"
    fields = anthropic_request_fields(request) if anthropic else openai_request_fields(request)
    fields.pop("model", None)  # the group the client asked for is read from the row
    fields.update(
        anthropic_response_fields(response) if anthropic else openai_response_fields(response)
    )
    if not fields["messages"] and isinstance(row.get("messages"), list):  # older versions
        fields["system"], fields["messages"] = split_openai_messages(row["messages"])
    return fields


class LiteLLMSpendLogsAdapter(LiteLLMAdapter):
    name = "litellm-spend-logs"
    description = "LiteLLM proxy spend logs (rows of its LiteLLM_SpendLogs table)"
    default_mapping = SPEND_LOG_MAPPING

    def matches(self, record: Any) -> bool:
        return isinstance(record, Mapping) and all(k in record for k in _KEYS)

    def located(self, record: Any) -> Any:
        return decoded(record) if isinstance(record, Mapping) else record  # JSON text columns

    def convert(self, record: Any) -> Iterator[Row]:
        row = decoded(self.require_object(record))
        failed = row.get("status") == "failure"
        out: Row = {name: self.mapping.get(row, name) for name in _ROW_FIELDS}
        out.update(_content(row))
        out.update(
            ts=utc_time(self.mapping.get(row, "ts")),
            account_id=self.identity(row, "account_id"),
            model=self.mapping.get(row, "model"),
            status=failure_status(_object(row.get("metadata"))) if failed else 200,
            latency_ms=_latency_ms(row),
            # the row's counts, not the stored response's; a failure's zeros are not counts
            input_tokens=None if failed else row.get("prompt_tokens"),
            output_tokens=None if failed else row.get("completion_tokens"),
        )
        if not out["messages"]:  # no stored prompt: one empty turn, as for OTel spans
            out["messages"] = [{"role": "user", "content": []}]
        yield out

    def account(self, record: Any) -> Row | None:
        return super().account(decoded(record)) if isinstance(record, Mapping) else None
