"""The adapters distillguard knows, registered explicitly, in the order --format auto tries."""

from __future__ import annotations

from typing import Any

from distillguard.errors import unknown_name_error
from distillguard.ingest.adapters.anthropic_messages import AnthropicMessagesAdapter
from distillguard.ingest.adapters.base import Adapter, FieldMapping
from distillguard.ingest.adapters.exchange_log import ExchangeLogAdapter
from distillguard.ingest.adapters.litellm import LiteLLMAdapter
from distillguard.ingest.adapters.openai_chat import OpenAIChatAdapter
from distillguard.ingest.adapters.otel_genai import OtelGenAIAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    cls.name: cls
    for cls in (
        ExchangeLogAdapter,
        OtelGenAIAdapter,
        LiteLLMAdapter,
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
