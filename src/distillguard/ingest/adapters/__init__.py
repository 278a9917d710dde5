"""Adapters from real log shapes to exchange-log v1."""

from distillguard.ingest.adapters.base import Adapter, FieldMapping
from distillguard.ingest.adapters.registry import (
    ADAPTERS,
    AUTO,
    adapter_names,
    detect_adapter,
    get_adapter,
    load_mapping,
)

__all__ = [
    "ADAPTERS",
    "AUTO",
    "Adapter",
    "FieldMapping",
    "adapter_names",
    "detect_adapter",
    "get_adapter",
    "load_mapping",
]
