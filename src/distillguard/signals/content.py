"""Content signals: elicitation classifiers and capability, per exchange."""

from __future__ import annotations

import pyarrow.compute as pc

from distillguard.signals.base import BatchContext, Columns, Signal
from distillguard.signals.capability import TEXT_CLASSES, capability, text_model
from distillguard.signals.lexicon import LexiconClassifier


class LexiconSignal(Signal):
    """One lexicon classifier as a probability column."""

    def __init__(self, classifier: LexiconClassifier) -> None:
        self.classifier = classifier
        self.name = classifier.name
        self.columns = (f"p_{classifier.name}",)
        self.description = f"probability that the prompt shows {classifier.name.replace('_', ' ')}"

    def compute(self, ctx: BatchContext) -> Columns:
        return {self.columns[0]: self.classifier.score(ctx.lowered)}


class Capability(Signal):
    name = "capability"
    columns = ("capability", "p_text_grading")
    description = "capability exercised (text model plus request structure), and P(judge prompt)"

    def compute(self, ctx: BatchContext) -> Columns:
        # The opening of a prompt says what it is; long judge prompts need not be read whole.
        opening = pc.utf8_slice_codeunits(ctx.prompt, 0, 1500)
        probs = text_model().predict_proba(opening)
        return {
            "capability": capability(
                probs, ctx.lowered, ctx.images, ctx.tool_blocks, ctx.column("tools")
            ),
            "p_text_grading": probs[:, TEXT_CLASSES.index("grading")],
        }
