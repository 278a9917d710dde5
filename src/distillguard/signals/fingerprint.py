"""Template fingerprints: a prompt's skeleton with its variable parts masked, hashed.

Numbers, quoted spans, URLs, e-mail addresses and code blocks are masked, so prompts cut
from one template with different fillings share a skeleton. The prefix and the suffix (the
first and last eight words of the skeleton) are hashed separately, because a template's
variable slot may sit at either end. Hashes are stable 63-bit integers (BLAKE2b), so they
compare across runs and, keyed, across organisations.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.signals.base import BatchContext, Columns, Signal
from distillguard.signals.text import skeleton

WORDS = 8


def stable_hash(values: list[str | None]) -> np.ndarray:
    """63-bit BLAKE2b of each string; 0 for null or empty."""
    out = np.zeros(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        if value:
            digest = hashlib.blake2b(value.encode(), digest_size=8).digest()
            out[i] = int.from_bytes(digest, "little") >> 1
    return out


def stable_hash_column(values: pa.Array) -> np.ndarray:
    """`stable_hash` of a string column; skeletons repeat, so each distinct one is hashed once."""
    encoded = pc.dictionary_encode(values)
    hashes = stable_hash(encoded.dictionary.to_pylist())
    codes = np.asarray(pc.fill_null(encoded.indices, -1))
    return np.where(codes >= 0, hashes[np.maximum(codes, 0)], 0)


def _words(text: pa.Array, start: int, stop: int | None) -> pa.Array:
    split = pc.split_pattern(text, " ")
    return pc.binary_join(pc.list_slice(split, start, stop), " ")


def _tail(text: pa.Array) -> pa.Array:
    """The last words: reverse the text, take its first words, reverse them back."""
    return pc.utf8_reverse(_words(pc.utf8_reverse(text), 0, WORDS))


def _system_fingerprints(system: pa.Array) -> np.ndarray:
    """System prompts are long and few: fingerprint each distinct one once."""
    distinct = pc.unique(system)
    position = pc.index_in(system, distinct).to_numpy(zero_copy_only=False)
    hashes = stable_hash(skeleton(pc.utf8_lower(pc.fill_null(distinct, ""))).to_pylist())
    return np.where(
        np.isnan(position.astype(float)), 0, hashes[np.nan_to_num(position).astype(int)]
    )


class TemplateFingerprint(Signal):
    name = "template_fingerprint"
    columns = ("prefix_fp", "suffix_fp", "skeleton_fp", "system_fp")
    description = (
        "hashes of the masked prompt skeleton (whole, first and last words) and system prompt"
    )

    def compute(self, ctx: BatchContext) -> Columns:
        skel = ctx.skeleton
        return {
            "prefix_fp": stable_hash_column(_words(skel, 0, WORDS)),
            "suffix_fp": stable_hash_column(_tail(skel)),
            "skeleton_fp": stable_hash_column(skel),
            "system_fp": _system_fingerprints(ctx.column("system")),
        }
