"""Shared shape of request/response pair logs: {request body, response body, metadata}.

Providers and gateways log the raw API bodies beside their own metadata, and where that
metadata lives differs per deployment, so it is read through a FieldMapping that a user can
override with `--mapping FILE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from distillguard.ingest.adapters.base import FieldMapping, epoch_or_text_timestamp
from distillguard.schema.validate import Row

METADATA_FIELDS = (
    "request_id",
    "ts",
    "account_id",
    "api_key_id",
    "access_path",
    "ip",
    "asn",
    "country",
    "user_agent",
    "status",
    "latency_ms",
)

PAIR_MAPPING = FieldMapping(
    {
        "request": ("request", "request_body", "req"),
        "response": ("response", "response_body", "resp"),
        "request_id": ("metadata.request_id", "request_id", "response.id"),
        "ts": ("metadata.timestamp", "metadata.ts", "timestamp", "ts", "response.created"),
        "account_id": ("metadata.account_id", "metadata.organization_id", "account_id"),
        "api_key_id": ("metadata.api_key_id", "metadata.key_id", "api_key_id"),
        "access_path": ("metadata.access_path", "access_path"),
        "ip": ("metadata.ip", "metadata.client_ip", "ip"),
        "asn": ("metadata.asn", "asn"),
        "country": ("metadata.country", "country"),
        "user_agent": ("metadata.user_agent", "user_agent"),
        "status": ("metadata.status", "metadata.status_code", "status"),
        "latency_ms": ("metadata.latency_ms", "latency_ms"),
    }
)


def metadata_fields(mapping: FieldMapping, record: Mapping[str, Any]) -> Row:
    """The exchange-log metadata fields of a pair-log record, located through the mapping."""
    row: Row = {name: mapping.get(record, name) for name in METADATA_FIELDS}
    row["ts"] = epoch_or_text_timestamp(row["ts"])
    return row


def body(mapping: FieldMapping, record: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """The request or response body; an absent or non-object body reads as empty."""
    found = mapping.get(record, name)
    return found if isinstance(found, Mapping) else {}
