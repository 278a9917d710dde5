"""LiteLLM proxy's StandardLoggingPayload, as its logging callbacks receive it.

Fields used: id, startTime/endTime (epoch seconds), model_group (the model the client asked
for; the provider-prefixed deployment in `model` only when there is no group), messages
(OpenAI format), response (an OpenAI-format ModelResponse), model_parameters, status and
error_information.error_code (the HTTP status of a failure), prompt_tokens,
completion_tokens, end_user, and metadata (StandardLoggingMetadata: user_api_key_hash,
user_api_key_user_id, user_api_key_end_user_id, user_api_key_team_id, user_api_key_org_id,
requester_ip_address, user_agent).

The account is the finest real identity a row carries: the end user the client named, then
the key's user, then the key. LiteLLM fills identities it does not have with sentinels
(`default_user_id` for the master key's admin, `litellm_proxy_master_key` for the master
key's hash); those are skipped, so four users behind one master key stay four accounts. A
row with nothing but sentinels belongs to the master key. The key's organisation, else its
team, is the account's `org_id` in the accounts table. Override either with --mapping.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from distillguard.ingest.adapters.base import (
    Adapter,
    FieldMapping,
    epoch_or_text_timestamp,
    lookup,
)
from distillguard.ingest.adapters.http_status import status_from_code, status_from_error
from distillguard.ingest.adapters.openai_chat import (
    openai_response_fields,
    openai_tool_names,
    split_openai_messages,
)
from distillguard.schema.validate import Row

LITELLM_MAPPING = FieldMapping(
    {
        # the call's own id first: `id` is the response's, which a cached answer repeats
        # (litellm_logging: response_obj.get("id", litellm_call_id)), so two customers'
        # calls answered from one cache entry were one exchange and a "duplicate"
        "request_id": ("litellm_call_id", "id"),
        "ts": ("startTime",),
        "account_id": (
            "end_user",
            "metadata.user_api_key_end_user_id",
            "metadata.user_api_key_user_id",
            "metadata.user_api_key_hash",
        ),
        "api_key_id": ("metadata.user_api_key_hash", "metadata.user_api_key_alias"),
        "access_path": (),
        "ip": ("metadata.requester_ip_address", "requester_ip_address"),
        "asn": (),
        "country": (),
        "user_agent": ("metadata.user_agent", "metadata.requester_custom_headers.user-agent"),
        "model": ("model_group", "model"),
        "org_id": (
            "metadata.user_api_key_org_id",
            "metadata.user_api_key_team_id",
            "metadata.team_id",
        ),
    }
)
# Values LiteLLM writes where it has no identity; never an account.
IDENTITY_SENTINELS = frozenset({"default_user_id", "litellm_proxy_master_key", ""})
_STATUS = {"success": 200}
_ROW_FIELDS = ("request_id", "ts", "api_key_id", "access_path", "ip", "asn", "country")
_KEYS = ("call_type", "startTime", "model_parameters")


def _name(value: Any) -> str | None:
    """An identity as the accounts table keeps it: text, or a whole number written as
    text; a boolean, a fraction, a list or an object there is no identity."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


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


def failure_status(payload: Mapping[str, Any]) -> int | None:
    """The HTTP status of a failed call: error_code when it is one, else the error class's."""
    code = status_from_code(lookup(payload, "error_information.error_code"))
    return code or status_from_error(lookup(payload, "error_information.error_class"))


def _usage_fields(payload: Mapping[str, Any], failed: bool) -> Row:
    response = payload.get("response")
    fields = openai_response_fields(response if isinstance(response, Mapping) else {})
    if failed:  # a failure has no usage; LiteLLM's zeros are placeholders, not counts
        return {**fields, "input_tokens": None, "output_tokens": None}
    fields.update(
        input_tokens=payload.get("prompt_tokens"), output_tokens=payload.get("completion_tokens")
    )
    return fields


class LiteLLMAdapter(Adapter):
    name = "litellm"
    description = "LiteLLM proxy StandardLoggingPayload (logging callbacks)"
    default_mapping = LITELLM_MAPPING

    def matches(self, record: Any) -> bool:
        return isinstance(record, Mapping) and all(k in record for k in _KEYS)

    def identity(self, payload: Mapping[str, Any], name: str) -> Any:
        """The first real identity among a field's paths; a sentinel only when nothing
        else is there (the last one found: the key's, for the master key)."""
        found = [_name(lookup(payload, path)) for path in self.mapping.paths.get(name, ())]
        present = [value for value in found if value is not None]
        real = [value for value in present if value not in IDENTITY_SENTINELS]
        if real:
            return real[0]
        return present[-1] if present else self.mapping.defaults.get(name)

    def convert(self, record: Any) -> Iterator[Row]:
        payload = self.require_object(record)
        params = payload.get("model_parameters") or {}
        failed = payload.get("status") == "failure"
        system, messages = _messages(payload)
        row: Row = {name: self.mapping.get(payload, name) for name in _ROW_FIELDS}
        row.update(_usage_fields(payload, failed))
        row.update(
            ts=epoch_or_text_timestamp(row["ts"]),
            account_id=self.identity(payload, "account_id"),
            user_agent=self.mapping.get(payload, "user_agent"),
            model=self.mapping.get(payload, "model"),
            system=system,
            messages=messages,
            max_tokens=params.get("max_completion_tokens") or params.get("max_tokens"),
            temperature=params.get("temperature"),
            tools=openai_tool_names(params.get("tools")),
            status=failure_status(payload) if failed else _STATUS.get(str(payload.get("status"))),
            latency_ms=_latency_ms(payload),
        )
        yield row

    def account(self, record: Any) -> Row | None:
        """The accounts-table row this payload declares: the account and its org or team."""
        if not isinstance(record, Mapping):
            return None
        org = self.identity(record, "org_id")
        account = self.identity(record, "account_id")
        if org in IDENTITY_SENTINELS or org is None or account is None:
            return None
        return {"account_id": account, "org_id": org}
