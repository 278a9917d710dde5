"""Hashed word uni- and bigrams of an Arrow string array, as scikit-learn's HashingVectorizer.

The capability model was trained on `HashingVectorizer(ngram_range=(1, 2),
alternate_sign=False, norm="l2")`; scikit-learn tokenises and builds n-grams one Python
string at a time, which was the largest cost of the signals stage. Here Arrow splits and
lower-cases the whole batch in C++, every distinct token and bigram is hashed once (with
scikit-learn's own MurmurHash3, remembered across batches), and the counts become a CSR
matrix in NumPy. `tests/signals/test_ngrams.py` checks the matrices are equal on real text.
The hash is mmh3's MurmurHash3 (x86, 32 bits, the function scikit-learn wraps), and rows are
normalised here: importing scikit-learn cost each signal worker 1.3 s before its first batch.

Tokens are maximal runs of word characters of length two or more, which is what the
default `(?u)\\b\\w\\w+\\b` pattern finds; a word character is a letter, a number or `_`.
"""

from __future__ import annotations

import mmh3
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

NOT_WORD = r"[^\p{L}\p{N}_]+"
CACHE_LIMIT = 4_000_000  # distinct n-grams remembered per process before starting afresh

_columns: dict[str, int] = {}


def _column(gram: str, n_features: int) -> int:
    """scikit-learn's column for one n-gram (its abs(h) % n, INT_MIN case included)."""
    h = mmh3.hash(gram, 0, signed=True)
    if h == -(2**31):
        return (2**31 - 1 - (n_features - 1)) % n_features
    return abs(h) % n_features


def _columns_of(grams: list[str], n_features: int) -> np.ndarray:
    if len(_columns) > CACHE_LIMIT:
        _columns.clear()
    out = np.empty(len(grams), dtype=np.int64)
    for i, gram in enumerate(grams):
        col = _columns.get(gram)
        if col is None:
            col = _columns[gram] = _column(gram, n_features)
        out[i] = col
    return out


def _tokens(texts: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(row of each token, token text) in reading order."""
    words = pc.split_pattern_regex(pc.utf8_lower(pc.fill_null(texts, "")), NOT_WORD)
    rows = np.asarray(pc.list_parent_indices(words))
    flat = pc.list_flatten(words)
    keep = np.asarray(pc.greater_equal(pc.utf8_length(flat), 2))
    return rows[keep], pc.filter(flat, pa.array(keep))


def _bigram_columns(
    rows: np.ndarray, codes: np.ndarray, vocabulary: pa.Array, n_features: int
) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every adjacent token pair within a text."""
    same = rows[1:] == rows[:-1]
    first, second = codes[:-1][same], codes[1:][same]
    pair_keys = first * len(vocabulary) + second
    distinct, inverse = np.unique(pair_keys, return_inverse=True)
    left = pc.take(vocabulary, pa.array(distinct // len(vocabulary)))
    right = pc.take(vocabulary, pa.array(distinct % len(vocabulary)))
    grams = pc.binary_join_element_wise(left, right, " ").to_pylist()
    return rows[:-1][same], _columns_of(grams, n_features)[inverse.ravel()]


def hashed_ngrams(texts: pa.Array, n_features: int) -> sp.csr_matrix:
    """Rows of l2-normalised uni- and bigram counts, one per text."""
    if len(texts) == 0:
        return sp.csr_matrix((0, n_features))
    rows, tokens = _tokens(texts)
    encoded = pc.dictionary_encode(tokens)
    codes = np.asarray(encoded.indices, dtype=np.int64)
    vocabulary = encoded.dictionary
    uni_cols = _columns_of(vocabulary.to_pylist(), n_features)[codes]
    bi_rows, bi_cols = (
        _bigram_columns(rows, codes, vocabulary, n_features)
        if len(codes) > 1
        else (np.empty(0, np.int64), np.empty(0, np.int64))
    )
    counts = sp.csr_matrix(
        (
            np.ones(len(rows) + len(bi_rows)),
            (np.concatenate([rows, bi_rows]), np.concatenate([uni_cols, bi_cols])),
        ),
        shape=(len(texts), n_features),
    )
    counts.sum_duplicates()
    return _l2_rows(counts)


def _l2_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Each row divided by its l2 norm, empty rows left alone: scikit-learn's
    normalize(norm="l2"), whose squares are summed in the row's order as bincount sums
    them, so the values are the same to the bit."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    norms = np.sqrt(np.bincount(rows, matrix.data * matrix.data, matrix.shape[0]))
    norms[norms == 0.0] = 1.0
    matrix.data /= norms[rows]
    return matrix
