"""Near-duplicate sketches of prompts: MinHash over skeleton words, banded for LSH.

Exact skeleton hashes group prompts cut from one template; a paraphrase, a reordered
sentence or an extra word breaks them. MinHash estimates the Jaccard similarity of two
prompts' word sets, and banding turns it into keys: prompts whose signatures agree on all
rows of any band share that band's key. With BANDS x ROWS = 4 x 4, two prompts sharing
80% of their words share a key with probability 0.86, at 50% with 0.23, at 30% with 0.03.

Vectorised over a batch: words are dictionary-encoded once, each distinct word hashed once
(BLAKE2b), and the per-prompt minima taken with `np.minimum.reduceat`. The permutations are
multiply-shift hashes with fixed constants, so sketches compare across runs and machines.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.signals.base import BatchContext, Columns, Signal
from distillguard.signals.fingerprint import stable_hash

BANDS = 4
ROWS = 4
_SEED = 20260201  # fixed, so every deployment computes the same sketches
_MIN_WORDS = 4  # shorter prompts are too generic to call near-duplicates
_MAX_WORDS = 200  # a long prompt's first words are its template
_EMPTY = np.iinfo(np.uint64).max


def hash_permutations(seed: int, count: int, high: int = 2**63) -> tuple[np.ndarray, np.ndarray]:
    """Odd multipliers and offsets of `count` universal hash functions, drawn from `seed`."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, high, size=count, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, high, size=count, dtype=np.uint64)
    return a, b


_A, _B = hash_permutations(_SEED, BANDS * ROWS)


def _permuted_words(words: pa.ListArray) -> tuple[np.ndarray, np.ndarray]:
    """The permuted hashes of every word position (positions x permutations), and offsets.

    Each distinct word is hashed and permuted once; positions then gather its row.
    """
    flat = pc.list_flatten(words)
    encoded = pc.dictionary_encode(flat)
    hashes = stable_hash(encoded.dictionary.to_pylist()).astype(np.uint64)
    with np.errstate(over="ignore"):
        # The top 32 bits fit uint32, which halves the memory the gather and minima stream.
        permuted = ((hashes[:, None] * _A[None, :] + _B[None, :]) >> np.uint64(32)).astype(
            np.uint32
        )
    positions = encoded.indices.to_numpy(zero_copy_only=False)
    lengths = pc.fill_null(pc.list_value_length(words), 0).to_numpy(zero_copy_only=False)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return permuted[positions], offsets


def minhash(words: pa.ListArray) -> np.ndarray:
    """(prompts, BANDS*ROWS) MinHash signatures; rows with too few words are all _EMPTY."""
    permuted, offsets = _permuted_words(words)
    lengths = np.diff(offsets)
    out = np.full((len(lengths), BANDS * ROWS), _EMPTY, dtype=np.uint64)
    usable = lengths >= _MIN_WORDS
    if not usable.any() or len(permuted) == 0:
        return out
    # Segments must start at every non-empty row: starting them only at usable rows let a
    # usable row's minimum run on into a short row after it, so sketches hung on neighbours.
    nonempty = np.flatnonzero(lengths > 0)
    minima = np.minimum.reduceat(permuted, offsets[:-1][nonempty], axis=0)
    keep = usable[nonempty]
    out[nonempty[keep]] = minima[keep]
    return out


def band_keys(signatures: np.ndarray) -> np.ndarray:
    """(prompts, BANDS) int64 keys, one per band; 0 where the prompt has no sketch."""
    keys = np.zeros((len(signatures), BANDS), dtype=np.int64)
    empty = signatures[:, 0] == _EMPTY
    for band in range(BANDS):
        rows = signatures[:, band * ROWS : (band + 1) * ROWS]
        with np.errstate(over="ignore"):
            mixed = rows[:, 0] * np.uint64(0x9E3779B97F4A7C15) + np.uint64(band)
            for r in range(1, ROWS):
                mixed = (mixed ^ rows[:, r]) * np.uint64(0xBF58476D1CE4E5B9)
        keys[:, band] = np.where(empty, 0, (mixed >> np.uint64(1)).astype(np.int64))
    keys[keys == 0] = 1  # 0 is reserved for "no sketch"
    keys[empty] = 0
    return keys


def skeleton_words(skeletons: pa.Array) -> pa.ListArray:
    """The first _MAX_WORDS words of each masked prompt."""
    return pc.list_slice(pc.split_pattern(skeletons, " "), 0, _MAX_WORDS)


class PromptSketch(Signal):
    name = "prompt_sketch"
    columns = tuple(f"near_{b}" for b in range(BANDS))
    description = "MinHash LSH band keys of the prompt's skeleton words, for near-duplicates"

    def compute(self, ctx: BatchContext) -> Columns:
        keys = band_keys(minhash(skeleton_words(ctx.skeleton)))
        return {f"near_{b}": keys[:, b] for b in range(BANDS)}
