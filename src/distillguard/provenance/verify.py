"""The provenance test: did a suspect model learn our keyed word choices?

For every (synonym group, context) in the suspect's outputs we score how much more the suspect
used the member our key picks there than a baseline rate (the provider's unwatermarked
originals when given, otherwise the suspect's own overall shares for that group). The null
hypothesis is "the suspect's text does not depend on our key". Under it, the key's pick in each
context is an independent draw with the members' shares, whatever the suspect writes; so the
exact null distribution of the total score is the same text scored under every possible key,
computed by convolution. Unwatermarked text therefore gives uniform p-values over keys by
construction, however unevenly it uses synonyms.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from distillguard.provenance.groups import GroupIndex, SynonymGroup, default_groups
from distillguard.provenance.key import WatermarkKey
from distillguard.provenance.positions import Output, PositionCounts, group_by_name

SCORE_STEPS = 4  # a context's score is rounded to quarters of a standard deviation
SCORE_CLIP = 6.0  # no single context may outweigh the rest
REFERENCE_WEIGHT = 5.0  # pseudo-counts pulling a sparse reference context to its group shares
P_FLOOR = 1e-50  # the DP drops mass below 1e-60 per cell, so smaller p-values are not exact
_TRIM = 1e-60


@dataclass(frozen=True)
class ScoredContext:
    group: SynonymGroup
    context: str
    counts: tuple[int, ...]
    scores: tuple[int, ...]  # the context's score if the key picks member i


@dataclass(frozen=True)
class ProvenanceResult:
    """The test's outcome with a plain-language explanation."""

    key_id: str
    p_value: float
    positions: int
    contexts: int
    matches: int
    expected_matches: float
    baseline: str

    @property
    def explanation(self) -> str:
        if self.positions == 0:
            return (
                "The suspect's outputs contain none of the interchangeable words the "
                "watermark controls, so there is nothing to test: collect more outputs, for "
                "example by sending it the prompts from `distillguard provenance probes`."
            )
        verdict = _verdict(self.p_value)
        return (
            f"We found {_count(self.positions, 'place')} "
            f"({_count(self.contexts, 'distinct context')}) where "
            "the suspect had to choose between interchangeable words, such as 'big' or "
            f"'large'. It used the word our secret key picks {_count(self.matches, 'time')}; "
            "scored "
            f"against {self.baseline}, a model that never learned from our watermarked "
            f"text would be expected to match about {_about(self.expected_matches)}. "
            f"The chance of a match at least this strong by luck is {self._p_text}. "
            f"{verdict}"
        )

    @property
    def _p_text(self) -> str:
        return f"p {self.p_value_text}"

    @property
    def p_value_text(self) -> str:
        """ "< 1e-50" at the floor (smaller values are not exact), else "= 0.0123"."""
        return f"< {P_FLOOR:.0e}" if self.p_value <= P_FLOOR else f"= {self.p_value:.3g}"

    def to_dict(self) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "p_value": self.p_value,
            # at the floor, p_value is an upper bound (smaller values are not exact)
            "p_value_is_bound": self.p_value <= P_FLOOR,
            "positions": self.positions,
            "contexts": self.contexts,
            "matches": self.matches,
            "expected_matches": round(self.expected_matches, 2),
            "baseline": self.baseline,
            "explanation": self.explanation,
        }


def _about(expected: float) -> str:
    """'12 times', 'once': an expectation, rounded to whole matches."""
    whole = round(expected)
    return "once" if whole == 1 else f"{whole:,} times"


def _verdict(p: float) -> str:
    if p < 1e-5:
        return "This is strong evidence that the suspect was trained on our watermarked outputs."
    if p < 1e-3:
        return "This is evidence that the suspect was trained on our watermarked outputs."
    if p < 0.05:
        return "This is weak evidence only: collect more outputs before drawing a conclusion."
    return "This is no evidence that the suspect learned from our watermarked outputs."


class NullModel:
    """A suspect's scored contexts and the exact null distribution of their total score.

    Built once per suspect sample; `evaluate` then tests any number of keys cheaply (the
    benchmark's false-positive runs test thousands)."""

    def __init__(
        self,
        suspect: PositionCounts,
        reference: PositionCounts | None = None,
        index: GroupIndex | None = None,
    ) -> None:
        groups = group_by_name(index or default_groups())
        baseline = _Baseline(suspect, reference)
        self.baseline_name = baseline.name
        self.contexts = [
            _score(groups[name], context, row, baseline.rates(groups[name], context))
            for (name, context), row in sorted(suspect.counts.items())
        ]
        self._lo, self._dist = _null_distribution(self.contexts)
        self._survival = np.cumsum(self._dist[::-1])[::-1]

    @property
    def positions(self) -> int:
        return sum(sum(c.counts) for c in self.contexts)

    def p_value(self, statistic: int) -> float:
        i = statistic - self._lo
        if i <= 0:
            return 1.0
        tail = float(self._survival[i]) if i < len(self._survival) else 0.0
        return min(1.0, max(tail, P_FLOOR))

    def evaluate(self, key: WatermarkKey) -> ProvenanceResult:
        statistic = matches = 0
        expected = 0.0
        for c in self.contexts:
            pick = key.choose(c.group, c.context)
            statistic += c.scores[pick]
            matches += c.counts[pick]
            expected += sum(q * n for q, n in zip(c.group.shares, c.counts, strict=True))
        return ProvenanceResult(
            key.key_id,
            self.p_value(statistic),
            self.positions,
            len(self.contexts),
            matches,
            expected,
            self.baseline_name,
        )


class _Baseline:
    """The rate at which an unwatermarked writer would use each member in a context."""

    def __init__(self, suspect: PositionCounts, reference: PositionCounts | None) -> None:
        self._reference = reference
        source = reference if reference is not None else suspect
        self._totals = source.group_totals()
        self.name = (
            "the unwatermarked reference text's word choices in the same contexts"
            if reference is not None
            else "the suspect's own overall choices between the same words"
        )

    def rates(self, group: SynonymGroup, context: str) -> tuple[float, ...]:
        totals = self._totals.get(group.name, (0,) * len(group.members))
        # Group shares as one pseudo-count keep a never-seen member from a zero rate.
        marginal = _smooth(totals, group.shares, 1.0)
        if self._reference is None:
            return marginal
        row = self._reference.counts.get((group.name, context), (0,) * len(group.members))
        return _smooth(row, marginal, REFERENCE_WEIGHT)


def _smooth(row: tuple[int, ...], prior: tuple[float, ...], weight: float) -> tuple[float, ...]:
    total = sum(row) + weight
    return tuple((n + weight * p) / total for n, p in zip(row, prior, strict=True))


def _score(
    group: SynonymGroup, context: str, row: tuple[int, ...], rates: tuple[float, ...]
) -> ScoredContext:
    """Per member: how far the suspect's use of it exceeds the baseline, in standard units."""
    n = sum(row)
    scores = []
    for count, rate in zip(row, rates, strict=True):
        b = min(0.98, max(0.02, rate))
        z = (count - n * b) / math.sqrt(n * b * (1.0 - b))
        scores.append(round(max(-SCORE_CLIP, min(SCORE_CLIP, z)) * SCORE_STEPS))
    return ScoredContext(group, context, row, tuple(scores))


def _null_distribution(contexts: list[ScoredContext]) -> tuple[int, np.ndarray]:
    """P(total score = lo + i) when each context's pick is drawn with the group's shares."""
    lo, dist = 0, np.ones(1)
    for c in contexts:
        low = min(c.scores)
        grown = np.zeros(len(dist) + max(c.scores) - low)
        for score, share in zip(c.scores, c.group.shares, strict=True):
            grown[score - low : score - low + len(dist)] += share * dist
        keep = np.flatnonzero(grown > _TRIM)
        lo, dist = lo + low + int(keep[0]), grown[keep[0] : keep[-1] + 1]
    return lo, dist


def verify_provenance(
    key: WatermarkKey,
    suspect_outputs: Iterable[Output],
    reference_texts: Iterable[str] | None = None,
    index: GroupIndex | None = None,
) -> ProvenanceResult:
    """Test whether the suspect's outputs prefer `key`'s word choices more than chance."""
    index = index or default_groups()
    suspect = PositionCounts.count_many(suspect_outputs, index)
    reference = (
        None if reference_texts is None else PositionCounts.count_many(reference_texts, index)
    )
    return NullModel(suspect, reference, index).evaluate(key)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
