"""Provenance: watermark what suspected accounts receive, and test whether a suspect model
learned from it (CATER-style keyed lexical watermark and a key-randomisation test)."""

from distillguard.provenance.key import WatermarkKey
from distillguard.provenance.verify import ProvenanceResult, verify_provenance
from distillguard.provenance.watermark import Watermarker, WatermarkResult, watermark_text

__all__ = [
    "ProvenanceResult",
    "WatermarkKey",
    "WatermarkResult",
    "Watermarker",
    "verify_provenance",
    "watermark_text",
]
