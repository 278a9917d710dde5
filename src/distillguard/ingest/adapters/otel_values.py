"""OTLP/JSON attribute values: AnyValue and key-value lists, decoded to Python."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def any_value(value: Mapping[str, Any]) -> Any:
    """Decode an OTLP/JSON AnyValue (int64 values arrive as strings)."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [any_value(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return attributes(value["kvlistValue"].get("values", []))
    return None


def attributes(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return {a["key"]: any_value(a.get("value") or {}) for a in items if isinstance(a, Mapping)}
