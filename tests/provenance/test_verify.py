from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from distillguard.provenance.groups import default_groups
from distillguard.provenance.key import WatermarkKey
from distillguard.provenance.positions import PositionCounts
from distillguard.provenance.verify import (
    P_FLOOR,
    NullModel,
    ProvenanceResult,
    verify_provenance,
)
from distillguard.provenance.watermark import watermark_text

WORDS = ["big", "large", "often", "frequently", "mostly", "mainly", "primarily"]


def synthetic_texts(n: int, seed: int) -> list[str]:
    """Prose-like lines with many (context, synonym) pairs; 'big' is naturally preferred."""
    rng = random.Random(seed)
    contexts = [f"q{a}{b}" for a in "abcdefghij" for b in "abcdefghijklmno"]
    lines = []
    for _ in range(n):
        words = []
        for _ in range(12):
            word = rng.choice(WORDS)
            if word in ("big", "large"):
                word = "big" if rng.random() < 0.8 else "large"
            words += [rng.choice(contexts), word]
        lines.append(" ".join(words) + ".")
    return lines


def test_watermarked_text_is_detected_and_clean_text_is_not() -> None:
    key = WatermarkKey.generate(seed=11)
    clean = synthetic_texts(80, 1)
    marked = [watermark_text(t, key).text for t in clean]
    hit = verify_provenance(key, marked)
    assert hit.p_value < 1e-10
    assert hit.matches == hit.positions
    assert verify_provenance(key, clean).p_value > 1e-3
    assert verify_provenance(WatermarkKey.generate(seed=12), marked).p_value > 1e-3


def test_p_values_of_unwatermarked_text_are_uniform_over_keys() -> None:
    model = NullModel(PositionCounts.count_many(synthetic_texts(60, 2)))
    p = np.array([model.evaluate(WatermarkKey.generate(seed=s)).p_value for s in range(400)])
    for alpha in (0.05, 0.2, 0.5):
        assert (p < alpha).mean() <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / 400)
    assert (p < 0.5).mean() > 0.3  # not stuck at 1 either


def test_null_distribution_equals_enumerating_every_pick() -> None:
    counts = PositionCounts.count_many(["qa big qb large qc often qa big qd mostly"])
    model = NullModel(counts)
    contexts = model.contexts
    for threshold in range(-40, 41, 3):
        exact = 0.0
        for picks in itertools.product(*(range(len(c.scores)) for c in contexts)):
            total = sum(c.scores[i] for c, i in zip(contexts, picks, strict=True))
            weight = float(
                np.prod([c.group.shares[i] for c, i in zip(contexts, picks, strict=True)])
            )
            exact += weight * (total >= threshold)
        assert model.p_value(threshold) == pytest.approx(min(1.0, max(exact, P_FLOOR)), abs=1e-9)


def test_reference_baseline_is_used_when_given() -> None:
    key = WatermarkKey.generate(seed=4)
    originals = synthetic_texts(40, 3)
    marked = [watermark_text(t, key).text for t in originals]
    result = verify_provenance(key, marked, reference_texts=originals)
    assert "reference" in result.baseline
    assert result.p_value < 1e-10


def test_merged_counts_equal_the_whole() -> None:
    texts = synthetic_texts(30, 5)
    whole = PositionCounts.count_many(texts)
    merged = PositionCounts.count_many(texts[:13]).merge(PositionCounts.count_many(texts[13:]))
    assert merged == whole
    looped = PositionCounts()
    for text in texts:
        looped = looped.merge(PositionCounts.count_one(text))
    assert looped == whole
    assert whole.positions == sum(sum(r) for r in whole.group_totals().values())


@pytest.mark.parametrize(
    ("p", "words"),
    [
        (1e-9, "strong evidence"),
        (1e-4, "This is evidence"),
        (0.01, "weak evidence only"),
        (0.4, "no evidence"),
    ],
)
def test_explanations_say_what_the_p_value_means(p: float, words: str) -> None:
    result = ProvenanceResult("id", p, 100, 60, 70, 55.0, "the suspect's own choices")
    assert words in result.explanation
    assert result.to_dict()["p_value"] == p


def test_no_positions_explains_what_to_do() -> None:
    result = verify_provenance(WatermarkKey.generate(seed=1), ["1 2 3", "```\nbig\n```"])
    assert result.positions == 0
    assert result.p_value == 1.0
    assert "probes" in result.explanation


def test_every_shipped_group_can_be_scored() -> None:
    index = default_groups()
    text = " ".join(f"and {g.members[0]} for {g.members[-1]}" for g in index.groups)
    assert PositionCounts.count_one(text).positions > 50


@pytest.mark.parametrize(
    ("positions", "contexts", "words"),
    [(1, 1, "1 place (1 distinct context)"), (2, 1, "2 places (1 distinct context)")],
)
def test_explanations_count_in_words(positions: int, contexts: int, words: str) -> None:
    result = ProvenanceResult("id", 0.5, positions, contexts, 1, 1.0, "the suspect's choices")
    assert words in result.explanation


@pytest.mark.parametrize(
    ("p_value", "matches", "said"),
    [
        (1e-50, 1, ("p < 1e-50", "picks 1 time;")),
        (0.0123, 2, ("p = 0.0123", "picks 2 times;")),
    ],
)
def test_the_explanation_reads_as_a_sentence(
    p_value: float, matches: int, said: tuple[str, str]
) -> None:
    """At the floor the first line said 'p-value 1e-50' and the explanation 'p < 1e-50';
    one match read 'picks 1 times'."""
    result = ProvenanceResult("k", p_value, 3, 2, matches, 1.0, "the members' shares")
    assert all(part in result.explanation for part in said)
    assert result.p_value_text == said[0].removeprefix("p ")


@pytest.mark.parametrize(
    ("expected", "p_value", "about", "bound"),
    [(1.2, 0.3, "match about once.", False), (2.6, 1e-50, "match about 3 times.", True)],
)
def test_the_expected_count_and_the_floor_are_said_plainly(
    expected: float, p_value: float, about: str, bound: bool
) -> None:
    """'would be expected to match about 1 times'; and the JSON gave p_value 1e-50 where
    the text said '< 1e-50', with nothing to mark it as a bound."""
    result = ProvenanceResult("k", p_value, 9, 4, 5, expected, "the members' shares")
    assert about in result.explanation
    assert result.to_dict()["p_value_is_bound"] is bound
