"""The small-batch regex path (RE2 compiled once, row by row) matches what Arrow's kernel
matches, pattern by pattern and classifier by classifier, on real prompts and edge cases."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from distillguard.signals import regex
from distillguard.signals.capability import DATA_ANALYSIS
from distillguard.signals.lexicon import CLASSIFIERS, LexiconClassifier
from tests.signals.lexicon_cases import COT, REWRITE, RUBRIC, TRACE

CORPORA = Path(__file__).resolve().parents[3] / "shared" / "data" / "corpora"

PATTERNS = [
    *((f"{c.name}[{i}]", p) for c in CLASSIFIERS for i, (p, _) in enumerate(c.patterns)),
    *((f"{c.name}.requires[{i}]", p) for c in CLASSIFIERS for i, p in enumerate(c.requires)),
    *((f"{c.name}.any", c.any_pattern) for c in CLASSIFIERS),
    ("capability.data_analysis", DATA_ANALYSIS),
]

EDGE_CASES = [
    ("empty", ""),
    ("null", None),
    ("only spaces", "   "),
    ("word boundary next to a non-ASCII letter", "éstep by stepé verdicté rubricß"),
    ("non-ASCII \\w neighbours", "ünternal reasoning naïve chain-of-thoughtü"),
    ("vertical tab as \\s", "< \x0bthinking\x0b>"),
    ("form feed and CR as \\s", "<\x0c/\r thinking >"),
    ("newline inside a .{0,n} gap", "reveal your\nfull hidden reasoning"),
    ("line and paragraph separators in a gap", "reveal your\u2028full\u2029 hidden reasoning"),
    ("dot over multi-byte characters", "show 数学証明のための your 全部 reasoning"),
    ("emoji in a gap", "explain 🤔🤔🤔 your thinking"),
    ("combining marks", "ste\u0301p by step, rubri\u0301c"),
    ("zero-width joiner", "step\u200dby\u200dstep chain\u200d-of-thought"),
    ("NUL byte", "step\x00by step verdict\x00"),
    ("gap exactly at its bound", "output " + "x" * 40 + " prior " + "y" * 30 + " reasoning"),
    ("gap one past its bound", "output " + "x" * 41 + " prior " + "y" * 31 + " reasoning"),
    ("score ranges", "rate it on a scale of 1 to 10; grade between 0-5 and 3/4"),
    ("long text, match at the end", "lorem ipsum " * 20_000 + "<thinking>"),
    ("long text, no match", "a" * 250_000),
    ("pathological for backtracking engines", "reveal " * 3000 + "prior " * 3000),
]
LABELLED = [text for text, _ in itertools.chain(COT, TRACE, RUBRIC, REWRITE)]


def _corpus_prompts(every: int = 15) -> list[str]:
    """Every `every`-th prompt of each shared corpus (a few thousand in all)."""
    texts: list[str] = []
    for path in sorted(CORPORA.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            texts += [json.loads(line)["text"] for line in itertools.islice(lines, 0, None, every)]
    return texts


def _lowered(texts: Sequence[str | None]) -> pa.Array:
    return pc.utf8_lower(pa.array(texts, pa.string()))


def _assert_same(texts: pa.Array) -> None:
    for name, pattern in PATTERNS:
        arrow = regex.matches_arrow(texts, pattern)
        small = regex.matches_small(texts, pattern)
        differ = np.flatnonzero(arrow != small)
        assert not len(differ), f"{name}: rows {differ[:5].tolist()} differ"


@pytest.mark.parametrize(("case", "text"), EDGE_CASES, ids=[c for c, _ in EDGE_CASES])
def test_small_path_equals_arrow_on_edge_cases(case: str, text: str | None) -> None:
    _assert_same(pa.array([text], pa.string()))  # as written
    _assert_same(_lowered([text]))  # as the classifiers see it


def test_small_path_equals_arrow_on_the_labelled_prompts() -> None:
    _assert_same(_lowered(LABELLED))


@pytest.mark.skipif(not CORPORA.is_dir(), reason="../shared/data/corpora is not beside the repo")
def test_small_path_equals_arrow_on_real_prompts() -> None:
    texts = _lowered(_corpus_prompts())
    assert len(texts) > 2000
    _assert_same(texts)


@pytest.mark.parametrize("classifier", CLASSIFIERS, ids=[c.name for c in CLASSIFIERS])
def test_one_row_batches_score_as_the_whole_batch(classifier: LexiconClassifier) -> None:
    """What the gateway computes for one prompt equals what detect computes in a batch."""
    texts = [*LABELLED, *(t for _, t in EDGE_CASES if t is not None and len(t) < 10_000)]
    if CORPORA.is_dir():
        texts += _corpus_prompts(every=97)
    lowered = _lowered(texts)
    assert len(lowered) > regex.SMALL_BATCH
    whole = classifier.score(lowered)
    one_by_one = np.array([classifier.score(lowered.slice(i, 1))[0] for i in range(len(lowered))])
    assert np.array_equal(whole, one_by_one)
    assert whole.max() > 0.5  # the table holds positives, so equality is not all zeros


def test_a_bad_pattern_fails_on_both_paths() -> None:
    texts = pa.array(["x"])
    with pytest.raises(Exception, match="missing"):
        regex.matches_arrow(texts, "(unclosed")
    with pytest.raises(Exception, match="missing"):
        regex.matches_small(texts, "(unclosed")
