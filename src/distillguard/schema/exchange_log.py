"""Field lists and Arrow schemas of exchange-log v1 (see ../shared/spec/exchange-log.md).

The field lists are the single source of truth: the validator, the lake writer, the
simulator and the adapters all read them, so adding a field means adding it here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import pyarrow as pa

Kind = Literal["string", "int", "float", "bool", "timestamp", "string_list", "messages"]


@dataclass(frozen=True)
class Field:
    """One column of an exchange-log table."""

    name: str
    kind: Kind
    required: bool = False


BLOCK_TYPE = pa.struct(
    [
        ("type", pa.string()),
        ("text", pa.string()),
        ("name", pa.string()),
        ("media_type", pa.string()),
    ]
)
MESSAGE_TYPE = pa.struct([("role", pa.string()), ("content", pa.list_(BLOCK_TYPE))])
TIMESTAMP_TYPE = pa.timestamp("ms", tz="UTC")

_ARROW_TYPES: dict[Kind, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "timestamp": TIMESTAMP_TYPE,
    "string_list": pa.list_(pa.string()),
    "messages": pa.list_(MESSAGE_TYPE),
}

EXCHANGE_FIELDS: tuple[Field, ...] = (
    Field("request_id", "string", required=True),
    Field("ts", "timestamp", required=True),
    Field("account_id", "string", required=True),
    Field("api_key_id", "string"),
    Field("access_path", "string"),
    Field("ip", "string"),
    Field("asn", "int"),
    Field("country", "string"),
    Field("user_agent", "string"),
    Field("model", "string", required=True),
    Field("max_tokens", "int"),
    Field("temperature", "float"),
    Field("thinking_budget", "int"),
    Field("tools", "string_list"),
    Field("system", "string"),
    Field("messages", "messages", required=True),
    Field("status", "int"),
    Field("stop_reason", "string"),
    Field("input_tokens", "int"),
    Field("output_tokens", "int"),
    Field("reasoning_tokens", "int"),
    Field("latency_ms", "int"),
    Field("output_text", "string"),
)

ACCOUNT_FIELDS: tuple[Field, ...] = (
    Field("account_id", "string", required=True),
    Field("created_at", "timestamp"),
    Field("tier", "string"),
    Field("verified", "bool"),
    Field("payment_fingerprint", "string"),
    Field("email_domain", "string"),
    Field("signup_ip", "string"),
    Field("signup_country", "string"),
    Field("org_id", "string"),
)

LABEL_FIELDS: tuple[Field, ...] = (
    Field("account_id", "string", required=True),
    Field("label", "string", required=True),
    Field("campaign", "string"),
    Field("population", "string", required=True),
)

# One list of roles and block types for every validation path (msgspec rows, Arrow tables).
Role = Literal["user", "assistant", "tool", "system"]
BlockType = Literal["text", "image", "tool_use", "tool_result", "thinking", "document"]
MESSAGE_ROLES = frozenset(get_args(Role))
BLOCK_TYPES = frozenset(get_args(BlockType))


def arrow_schema(fields: tuple[Field, ...]) -> pa.Schema:
    """The Arrow schema of a table given its fields; required fields are non-nullable."""
    return pa.schema([pa.field(f.name, _ARROW_TYPES[f.kind], nullable=True) for f in fields])


EXCHANGES_SCHEMA = arrow_schema(EXCHANGE_FIELDS)
ACCOUNTS_SCHEMA = arrow_schema(ACCOUNT_FIELDS)
LABELS_SCHEMA = arrow_schema(LABEL_FIELDS)
