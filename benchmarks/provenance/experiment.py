"""One provenance experiment: watermark part of a teacher corpus, train a student on it, prompt
the student with probes, and test its outputs; plus the false-positive runs over many keys."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from distillguard.provenance.key import WatermarkKey
from distillguard.provenance.positions import Answer, Output, PositionCounts
from distillguard.provenance.probes import make_probes
from distillguard.provenance.verify import NullModel
from distillguard.provenance.watermark import watermark_text

Generate = Callable[[Sequence[str], int], list[str]]  # (prefixes, seed) -> continuations
TRAINING_KEY_SEED = 2026


PROBED_SHARE = 0.1


@dataclass(frozen=True)
class Corpus:
    """Teacher outputs as served. `probed` are the indices whose originals the provider builds
    probes and the reference from: the watermarked ones, at most the first 10% (so students
    with 0%, 10% and 100% watermarked are probed alike)."""

    originals: list[str]
    served: list[str]
    probed: int

    @property
    def marked_originals(self) -> list[str]:
        return self.originals[: self.probed]


def served_corpus(
    originals: list[str], fraction: float, key: WatermarkKey, probe_share: float = PROBED_SHARE
) -> Corpus:
    """Watermark the first `fraction` of `originals` (already shuffled)."""
    n = round(len(originals) * fraction)
    served = [watermark_text(t, key).text if i < n else t for i, t in enumerate(originals)]
    return Corpus(originals, served, probed_count(len(originals), fraction, probe_share))


def probed_count(size: int, fraction: float, probe_share: float = PROBED_SHARE) -> int:
    return round(size * min(fraction or probe_share, probe_share))


@dataclass(frozen=True)
class Outcome:
    p_reference: float
    p_self: float
    positions: int
    contexts: int


def probe_prefixes(corpus: Corpus, repeats: int) -> list[str]:
    """Probes from the originals of what was watermarked, each sent `repeats` times."""
    probes = make_probes(corpus.marked_originals, limit=10**6, seed=1)
    return [p.prefix for p in probes] * repeats


def answers(prefixes: Sequence[str], continuations: Sequence[str]) -> list[Output]:
    return [Answer(p, c) for p, c in zip(prefixes, continuations, strict=True)]


def score_outputs(outputs: list[Output], corpus: Corpus, key: WatermarkKey) -> Outcome:
    """The provenance test with the originals as reference, and with the suspect's own shares."""
    counts = PositionCounts.count_many(outputs)
    reference = PositionCounts.count_many(corpus.marked_originals)
    with_ref = NullModel(counts, reference).evaluate(key)
    alone = NullModel(counts).evaluate(key)
    return Outcome(with_ref.p_value, alone.p_value, with_ref.positions, with_ref.contexts)


@dataclass(frozen=True)
class FalsePositives:
    keys: int
    below: dict[str, float]  # alpha -> share of keys with p below it

    def rate(self, alpha: float) -> float:
        return self.below[f"{alpha:g}"]


ALPHAS = (1e-3, 1e-2, 0.05, 0.1, 0.5)


def false_positive_rate(
    outputs: Sequence[Output], reference: list[str] | None, keys: int, first_seed: int
) -> FalsePositives:
    """p-values of one key-independent text under `keys` fresh keys."""
    counts = PositionCounts.count_many(outputs)
    ref = PositionCounts.count_many(reference) if reference is not None else None
    model = NullModel(counts, ref)
    p = np.array(
        [model.evaluate(WatermarkKey.generate(seed=first_seed + i)).p_value for i in range(keys)]
    )
    return FalsePositives(keys, {f"{a:g}": float((p < a).mean()) for a in ALPHAS})


def sample_texts(texts: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return rng.sample(texts, min(n, len(texts)))
