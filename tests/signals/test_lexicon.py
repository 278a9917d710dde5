"""Table-driven tests of the lexicon classifiers, and their calibration on our labelled set."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from distillguard.signals.lexicon import (
    CENSORSHIP_REWRITE,
    COT_ELICITATION,
    RUBRIC_GRADING,
    TRACE_EXTRACTION,
    LexiconClassifier,
)
from tests.signals.lexicon_cases import COT, REWRITE, RUBRIC, TRACE

TABLES = [
    (COT_ELICITATION, COT),
    (TRACE_EXTRACTION, TRACE),
    (RUBRIC_GRADING, RUBRIC),
    (CENSORSHIP_REWRITE, REWRITE),
]
CASES = [(c, text, label) for c, rows in TABLES for text, label in rows]


def _score(classifier: LexiconClassifier, texts: list[str]) -> np.ndarray:
    return classifier.score(pc.utf8_lower(pa.array(texts)))


@pytest.mark.parametrize(
    ("classifier", "text", "positive"), CASES, ids=[f"{c.name}:{t[:30]}" for c, t, _ in CASES]
)
def test_each_case(classifier: LexiconClassifier, text: str, positive: bool) -> None:
    score = float(_score(classifier, [text])[0])
    assert (score >= 0.5) == positive, f"{classifier.name} gave {score:.2f}"


@pytest.mark.parametrize(("classifier", "rows"), TABLES, ids=[c.name for c, _ in TABLES])
def test_scores_are_calibrated_probabilities(
    classifier: LexiconClassifier, rows: list[tuple[str, bool]]
) -> None:
    scores = _score(classifier, [t for t, _ in rows])
    labels = np.array([y for _, y in rows], dtype=float)
    assert ((scores >= 0) & (scores <= 1)).all()
    brier = float(np.mean((scores - labels) ** 2))
    assert brier < 0.1, f"Brier score {brier:.3f}"


def test_nulls_and_empty_text_score_zero() -> None:
    scores = COT_ELICITATION.score(pa.array([None, ""], pa.string()))
    assert scores.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("classifier", [c for c, _ in TABLES], ids=[c.name for c, _ in TABLES])
def test_the_prefilter_never_changes_a_score(classifier: LexiconClassifier) -> None:
    # Every labelled text of every table, so each classifier sees its hits and its misses.
    texts = pc.utf8_lower(pa.array([text for _, table in TABLES for text, _ in table] + [""]))
    assert np.array_equal(classifier.score(texts), classifier._score_all(texts))
