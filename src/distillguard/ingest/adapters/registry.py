"""The adapters distillguard knows, registered explicitly, in the order --format auto tries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from distillguard.errors import ConfigError, unknown_name_error
from distillguard.ingest.adapters.anthropic_messages import AnthropicMessagesAdapter
from distillguard.ingest.adapters.base import Adapter, FieldMapping, read_mapping
from distillguard.ingest.adapters.exchange_log import ExchangeLogAdapter
from distillguard.ingest.adapters.litellm import LiteLLMAdapter
from distillguard.ingest.adapters.litellm_spend_logs import LiteLLMSpendLogsAdapter
from distillguard.ingest.adapters.openai_chat import OpenAIChatAdapter
from distillguard.ingest.adapters.otel_genai import OtelGenAIAdapter
from distillguard.schema import EXCHANGE_FIELDS

ADAPTERS: dict[str, type[Adapter]] = {
    cls.name: cls
    for cls in (
        ExchangeLogAdapter,
        OtelGenAIAdapter,
        LiteLLMAdapter,
        LiteLLMSpendLogsAdapter,
        OpenAIChatAdapter,
        AnthropicMessagesAdapter,
    )
}
AUTO = "auto"


def adapter_names() -> list[str]:
    return [AUTO, *ADAPTERS]


def get_adapter(name: str, mapping: FieldMapping | None = None) -> Adapter:
    """The adapter called `name`; an unknown name raises with the valid names."""
    if name not in ADAPTERS:
        raise unknown_name_error("format", name, adapter_names())
    return ADAPTERS[name](mapping)


def detect_adapter(record: Any, mapping: FieldMapping | None = None) -> Adapter | None:
    """The first adapter whose shape the record matches, or None."""
    for cls in ADAPTERS.values():
        adapter = cls(mapping)
        if adapter.matches(record):
            return adapter
    return None


def mappable_fields() -> frozenset[str]:
    """What a --mapping may name: the exchange-log fields, and the source objects the
    adapters read through their default mappings (a pair log's request and response,
    LiteLLM's org_id, ...)."""
    adapters = (cls.default_mapping.paths for cls in ADAPTERS.values())
    return frozenset(f.name for f in EXCHANGE_FIELDS).union(*adapters)


def load_mapping(path: Path) -> FieldMapping:
    """A --mapping file, its names checked: a misspelt one would never apply, unsaid."""
    mapping = read_mapping(path)
    valid = mappable_fields()
    unknown = sorted((set(mapping.paths) | set(mapping.defaults)) - valid)
    if unknown:
        raise ConfigError(
            f"mapping {path}: unknown field(s) {unknown}; valid: {', '.join(sorted(valid))}"
        )
    return mapping
