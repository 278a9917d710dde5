"""Ingest: read real log shapes into the exchange-log lake."""

from distillguard.ingest.lake import Lake
from distillguard.ingest.outcome import IngestSummary
from distillguard.ingest.pipeline import ingest

__all__ = ["IngestSummary", "Lake", "ingest"]
