"""LiteLLM proxy's StandardLoggingPayload, as its logging callbacks receive it.

Fields used: id, startTime/endTime (epoch seconds), model, messages (OpenAI format),
response (an OpenAI-format ModelResponse), model_parameters, status, prompt_tokens,
completion_tokens, and metadata (StandardLoggingMetadata: user_api_key_hash,
user_api_key_team_id, user_api_key_user_id, user_api_key_org_id, requester_ip_address,
user_agent). The billing account defaults to the key's team, then user, then org, then
the key hash; override that with --mapping.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from distillguard.ingest.adapters.base import Adapter, FieldMapping, epoch_or_text_timestamp
from distillguard.ingest.adapters.openai_chat import (
    openai_response_fields,
    openai_tool_names,
    split_openai_messages,
)
from distillguard.schema.validate import Row

LITELLM_MAPPING = FieldMapping(
    {
        "request_id": ("id", "litellm_call_id"),
        "ts": ("startTime",),
        "account_id": (
            "metadata.user_api_key_team_id",
            "metadata.user_api_key_user_id",
            "metadata.user_api_key_org_id",
            "metadata.user_api_key_hash",
            "end_user",
        ),
        "api_key_id": ("metadata.user_api_key_hash", "metadata.user_api_key_alias"),
        "access_path": (),
        "ip": ("metadata.requester_ip_address", "requester_ip_address"),
        "asn": (),
        "country": (),
        "user_agent": ("metadata.user_agent", "metadata.requester_custom_headers.user-agent"),
    }
)
_STATUS = {"success": 200}
_KEYS = ("call_type", "startTime", "model_parameters")


def _messages(payload: Mapping[str, Any]) -> tuple[str | None, list[Row]]:
    messages = payload.get("messages")
    if isinstance(messages, str):  # text-completion calls log the prompt as a string
        return None, [{"role": "user", "content": messages}]
    return split_openai_messages(messages)


def _latency_ms(payload: Mapping[str, Any]) -> int | None:
    start, end = payload.get("startTime"), payload.get("endTime")
    if isinstance(start, int | float) and isinstance(end, int | float):
        return round((end - start) * 1000)
    return None


class LiteLLMAdapter(Adapter):
    name = "litellm"
    description = "LiteLLM proxy StandardLoggingPayload (logging callbacks)"
    default_mapping = LITELLM_MAPPING

    def matches(self, record: Any) -> bool:
        return isinstance(record, Mapping) and all(k in record for k in _KEYS)

    def convert(self, record: Any) -> Iterator[Row]:
        payload = self.require_object(record)
        params = payload.get("model_parameters") or {}
        response = payload.get("response")
        system, messages = _messages(payload)
        row: Row = {name: self.mapping.get(payload, name) for name in LITELLM_MAPPING.paths}
        row["ts"] = epoch_or_text_timestamp(row["ts"])
        row.update(openai_response_fields(response if isinstance(response, Mapping) else {}))
        row.update(
            model=payload.get("model"),
            system=system,
            messages=messages,
            max_tokens=params.get("max_completion_tokens") or params.get("max_tokens"),
            temperature=params.get("temperature"),
            tools=openai_tool_names(params.get("tools")),
            status=_STATUS.get(str(payload.get("status"))),
            latency_ms=_latency_ms(payload),
            input_tokens=payload.get("prompt_tokens"),
            output_tokens=payload.get("completion_tokens"),
        )
        yield row
