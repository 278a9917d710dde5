"""The Arrow n-gram hasher gives the matrix scikit-learn's HashingVectorizer gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp

from distillguard.signals import ngrams
from distillguard.signals.capability import N_FEATURES, vectorizer
from distillguard.signals.ngrams import hashed_ngrams

CORPORA = Path(__file__).resolve().parents[3] / "shared" / "data" / "corpora"

CASES = [
    ("empty", ""),
    ("one letter words only", "a b c d"),
    ("punctuation between words", "def f(x): return x**2 -- ok?"),
    ("repeated bigram", "step by step by step by step"),
    ("upper case", "Explain THE Proof"),
    ("underscore and digits", "snake_case_name v2 42 x_1"),
    ("accents", "café naïve über straße"),
    ("non-latin scripts", "数学 証明 для доказательства 수학"),
    ("newlines and tabs", "line one\n\tline two\r\nthree"),
    ("long text", "word " * 5000),
]


def _differing_rows(texts: list[str]) -> int:
    expected = vectorizer().transform(texts)
    got = hashed_ngrams(pa.array(texts), N_FEATURES)
    assert got.shape == expected.shape
    diff = sp.coo_matrix(expected - got)
    return len(np.unique(diff.row[diff.data != 0]))


@pytest.mark.parametrize(("name", "text"), CASES, ids=[c[0] for c in CASES])
def test_each_case_hashes_as_scikit_learn(name: str, text: str) -> None:
    assert _differing_rows([text, "a plain second row"]) == 0, name


def test_null_texts_are_empty_rows() -> None:
    got = hashed_ngrams(pa.array(["some words", None]), N_FEATURES)
    assert got[1].nnz == 0
    assert got[0].nnz == 3


def test_no_texts_give_no_rows() -> None:
    assert hashed_ngrams(pa.array([], pa.string()), N_FEATURES).shape == (0, N_FEATURES)


def test_the_remembered_columns_do_not_change_results() -> None:
    texts = ["the same words again", "and other words"]
    ngrams._columns.clear()
    cold = hashed_ngrams(pa.array(texts), N_FEATURES)
    warm = hashed_ngrams(pa.array(texts), N_FEATURES)
    assert (cold != warm).nnz == 0


def _corpus_texts(limit: int) -> list[str]:
    texts: list[str] = []
    for path in sorted(CORPORA.glob("*.jsonl")):
        with path.open() as lines:
            for line in lines:
                values = [v for v in json.loads(line).values() if isinstance(v, str)]
                texts.extend(v[:1500] for v in values)
                if len(texts) >= limit:
                    return texts
    return texts


@pytest.mark.skipif(not CORPORA.is_dir(), reason="../shared/data/corpora is not beside the repo")
def test_real_text_hashes_as_scikit_learn() -> None:
    # Lower-casing differs only for rare letters such as Turkish dotted capital I, whose
    # Python lower case carries a combining dot; allow one row in a thousand for them.
    texts = _corpus_texts(20_000)
    assert len(texts) >= 5_000
    assert _differing_rows(texts) <= len(texts) // 1000
