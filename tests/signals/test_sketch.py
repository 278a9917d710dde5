"""MinHash sketches: near-duplicates share a band key, unrelated prompts do not."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from distillguard.signals.sketch import BANDS, band_keys, minhash, skeleton_words
from distillguard.signals.text import skeleton

BASE = "please solve the following integral of x squared from 0 to 3 and show every step"


def _keys(texts: Sequence[str | None]) -> np.ndarray:
    return band_keys(minhash(skeleton_words(skeleton(pc.utf8_lower(pa.array(texts, pa.string()))))))


def _shares_band(a: str, b: str) -> bool:
    keys = _keys([a, b])
    return bool((keys[0] == keys[1]).any() and keys[0, 0] != 0)


@pytest.mark.parametrize(
    ("other", "near"),
    [
        (BASE, True),
        (BASE.upper(), True),
        (BASE.replace("3", "7"), True),  # numbers are masked
        (BASE + " please", True),
        ("Please solve the following integral of x cubed from 0 to 3, show every step", True),
        ("write a short poem about the sea at night for my grandmother", False),
        ("what is the capital of france and why did it become the capital", False),
    ],
)
def test_near_duplicates_share_a_band(other: str, near: bool) -> None:
    assert _shares_band(BASE, other) is near


def test_short_and_missing_prompts_have_no_sketch() -> None:
    keys = _keys(["hi there", None, "", BASE])
    assert (keys[:3] == 0).all()
    assert (keys[3] != 0).all()
    assert keys.shape == (4, BANDS)


def test_batching_does_not_change_sketches() -> None:
    texts = [f"{BASE} number {i} with extra words {i % 7}" for i in range(50)]
    whole = _keys(texts)
    parts = np.concatenate([_keys(texts[:17]), _keys(texts[17:])])
    assert np.array_equal(whole, parts)


def test_a_sketch_does_not_depend_on_the_rows_around_it() -> None:
    # Short prompts (no sketch) between long ones once leaked their words into the row above.
    texts = [BASE, "zebra quokka", None, "write a short poem about the sea at night", "yak", ""]
    together = _keys(texts)
    alone = np.concatenate([_keys([text]) for text in texts])
    assert np.array_equal(together, alone)


def test_band_match_rate_follows_jaccard() -> None:
    """Pairs sharing ~80% of their words mostly share a band; ~30% rarely do."""
    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = sorted({"".join(rng.choice(letters, size=7)) for _ in range(5000)})  # no digits:
    # the skeleton masks numbers

    def pair(shared: int, total: int = 40) -> tuple[str, str]:
        words = list(rng.choice(vocab, size=2 * total - shared, replace=False))
        return " ".join(words[:total]), " ".join(words[:shared] + words[total:])

    def rate(shared: int) -> float:
        return float(np.mean([_shares_band(*pair(shared)) for _ in range(200)]))

    assert rate(36) > 0.7  # Jaccard 36/44 = 0.82
    assert rate(18) < 0.1  # Jaccard 18/62 = 0.29
