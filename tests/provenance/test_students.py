"""End to end in miniature: a trigram student trained on watermarked real text is caught, one
trained on the same text unwatermarked is not (the full runs are in benchmarks/provenance)."""

from __future__ import annotations

import random

import pytest
from benchmarks.provenance.corpus import CORPORA, teacher_paragraphs
from benchmarks.provenance.experiment import answers, probe_prefixes, score_outputs, served_corpus
from benchmarks.provenance.students import NGramStudent, detokenize, tokenize

from distillguard.provenance.key import WatermarkKey

pytestmark = pytest.mark.skipif(
    not (CORPORA / "distill_judge.jsonl").exists(), reason="shared corpora not beside the checkout"
)


@pytest.mark.parametrize(("fraction", "detected"), [(1.0, True), (0.0, False)])
def test_trigram_student(fraction: float, detected: bool) -> None:
    # 2,000 paragraphs: with 1,000 the watermark's signal was strong only while it also
    # swapped words before one that fits a member alone ("requires to"), which it no longer
    # does (groups.txt notbefore, 2026-12-02): p 2.3e-9 then, 2.8e-5 after, for this key
    originals = teacher_paragraphs(seed=0)[:2000]
    key = WatermarkKey.generate(seed=77)
    corpus = served_corpus(originals, fraction, key)
    student = NGramStudent().fit(corpus.served)
    prefixes = probe_prefixes(corpus, repeats=8)
    rng = random.Random(1)
    outputs = answers(prefixes, [student.generate(p, 6, rng) for p in prefixes])
    outcome = score_outputs(outputs, corpus, key)
    assert outcome.positions > 100
    assert (outcome.p_reference < 1e-5) is detected
    assert (outcome.p_self < 1e-3) is detected


def test_student_tokenizer_differs_from_the_watermarks() -> None:
    assert detokenize(tokenize("Large, big (often).")) == "large , big ( often ) ."
